"""Abstention rules that read the question against the reports an answer would quote.

Each catches a kind of question the reports do not answer though they share its words: a
question about what did not happen with no source saying so, a question about what is with
every source saying it is not, a story that only a roundup mentions in passing, a figure the
question states that no report holds, and a country it names that the quoted reports do not.
The extractive step applies them (and so the model path, which asks no model where the
extractive step abstains); README "Abstention" has what each did on the dev sets.
"""

from __future__ import annotations

import re

from langchain_core.documents import Document

from bot.answering.spans import countries_named
from bot.answering.terms import numbers, numbers_with_text

# A question about what did not happen (_NEGATED) is answered only by a sentence that says
# something did not, or was refused, declined, failed or lacking (_NEGATION): "What does not
# depend on the immune system?" is not answered by "Both kinds of immunity depend on it".
# SQuAD 2.0 dev: 11 of its 124 unanswerable questions abstain, no answerable one of either set
# (README "Abstention"). "Why did stocks decline?" is not a negated question.
_NEGATED = re.compile(r"\b(?:not|never|no|none|neither|nor|without|cannot)\b|n[’']t\b", re.I)
_NEGATION = re.compile(_NEGATED.pattern + r"|\b(?:refus|declin|fail|lack)\w*", re.I)
# And the other way round: a question that asks what is so ("What do tumors express that are
# also found on normal cells?") is not answered when every quoted sentence says that something is
# not so ("... antigens that are not found on normal cells"), unless the sentence goes on to say
# what is ("not by ... but by ...", "not ... until ...") or the question asks about something
# refused, banned or missing ("Where is it illegal to pump your own gas?" is answered by
# "... still don't let you pump your own gas"). SQuAD 2.0 dev: 7 more of its 124 unanswerable
# questions abstain (0.258 -> 0.315), and 2 more held-out RealTime QA ones; no answerable one of
# either set (README "Abstention").
_SAYS_NOT = re.compile(r"\b(?:not|never|cannot)\b|n[’']t\b", re.I)
# A reason or a time it gives says what is too: "did not launch because of high winds" answers
# "Why was the launch delayed?", "did not return until 1990" answers "When did he return?".
_SAYS_WHAT_IS = re.compile(r"\b(?:but|rather|instead|because|due to|until|till|unless|except)\b",
                           re.I)
_ASKS_WHAT_IS_NOT = re.compile(
    r"\b(?:illegal|unlawful|ban(?:s|ned)?|barred|forbid\w*|prohibit\w*|refus\w*|declin\w*|"
    r"fail\w*|lack\w*|den(?:y|ies|ied)|reject\w*|unable|absent|miss(?:ed|es|ing)?|stop\w*|"
    r"halt\w*|cancel\w*|prevent\w*|avoid\w*|exclud\w*|omit\w*|left out|leave out|no longer|"
    r"lose|loses|losing|lost)\b", re.I)
# A roundup of several stories ("5 things to know for June 13: Gun laws, January 6, Covid ...",
# "... : Daily Briefing") gives each a line in passing; when the only quoted support is a roundup,
# the index holds no report of the story (news it does not hold), so newsbot abstains and names
# the roundup. RealTime QA dev: 5 more held-out questions abstain (0.745 -> 0.796; 4 of them had
# been answered wrongly, 1 rightly from the roundup's line) and a sixth is answered from a report;
# no answerable question of either set is touched: none was answered from a roundup (README
# "Abstention").
_ROUNDUP = re.compile(r"\b\d+\s+things\s+(?:to know|you need to know|to watch)\b|"
                      r"\b(?:morning|evening|daily|weekly|news|world|week's)\s+(?:briefing|brief|"
                      r"digest|roundup|round-up|newsletter|headlines)\b|\btop (?:news )?stories\b|"
                      r"\bnews in review\b", re.I)



def says_nothing_of_it(question: str, firsts: list[str]) -> bool:
    """Whether a question about what did not happen has no quoted doc whose first quoted
    sentence says something did not (or was refused, declined, failed or lacking)."""
    return bool(_NEGATED.search(question)) and not any(_NEGATION.search(f) for f in firsts)


def says_otherwise(question: str, quoted: list[str]) -> bool:
    """Whether every quoted sentence says that something is not so, without saying what is,
    while the question asks what is (it has no negation, and asks nothing refused or missing)."""
    if _NEGATED.search(question) or _ASKS_WHAT_IS_NOT.search(question):
        return False
    return bool(quoted) and all(_SAYS_NOT.search(text) and not _SAYS_WHAT_IS.search(text)
                                for text in quoted)


def roundup_only(question: str, quoted: list[Document]) -> str | None:
    """The first quoted roundup as "title" (outlet, date) when every quoted doc is a roundup
    of several stories and the question does not ask about the roundup itself; else None."""
    if not quoted or _ROUNDUP.search(question) or not all(is_roundup(doc) for doc in quoted):
        return None
    meta = quoted[0].metadata
    return (f"\"{meta['title']}\" ({meta.get('source') or 'outlet unknown'}, "
            f"{meta.get('date') or 'date unknown'})")


def is_roundup(doc: Document) -> bool:
    """Whether doc's headline is that of a roundup of several stories."""
    return bool(_ROUNDUP.search(doc.metadata.get("title") or ""))


def unstated_figure(question: str, docs: list[Document]) -> str | None:
    """The first figure written with two or more digits that the question states and no doc's
    headline, text or date does, as the question writes it; None when every one is stated.
    Figures are compared as values (terms.numbers): "21,000", "21000" and "21 thousand" are one;
    a report dated 2024 states 2024.

    Such a figure ("in roughly 21,000 of its restaurants", "Covid-19", "in 1765") means the
    reports are about something else (news the index does not hold). Single digits are left
    out, as reports spell them ("one billion"). Dev sets: 4 of 98 held-out RealTime QA questions
    and 4 of 124 unanswerable SQuAD 2.0 ones abstain, no answerable one of either set (README
    "Abstention")."""
    stated = set().union(*(numbers(f"{doc.metadata.get('date', '')}\n{headed_text(doc)}")
                           for doc in docs))
    for written, value in numbers_with_text(question):
        if sum(c.isdigit() for c in written) >= 2 and value not in stated:
            return written
    return None


def headed_text(doc: Document) -> str:
    """A chunk's headline and text."""
    return f"{doc.metadata.get('title', '')}\n{doc.page_content}"


def unnamed_country(question: str, quoted: list[Document]) -> str | None:
    """A country the question names, by name or nationality word, that no quoted report's
    retrieved chunks or headline name, as the question writes it; None when all are named.

    "How many US troops are in Japan?" is not answered by a report of the 28,500 in South
    Korea. Dev sets: 1 unanswerable SQuAD 2.0 question abstains ("How many schools of medicine
    were recognized in Japan?"), no answerable one of either set (README "Abstention")."""
    asked = countries_named(question)
    if not asked:
        return None
    text = "\n".join(headed_text(doc) for doc in quoted)
    told = countries_named(text)
    lowered = text.lower()
    return next((written for country, written in asked.items()
                 if country not in told and country not in lowered), None)
