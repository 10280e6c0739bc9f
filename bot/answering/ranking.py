"""Score every retrieved sentence as the answer to a question.

Every sentence of the retrieved chunks is a candidate; the retriever has already given each its
cosine similarity to the question (from vectors stored at ingest). A linear scorer adds what
similarity misses: the question's words and word pairs in the sentence, whether the sentence holds
the kind of thing asked for (a number for "how many", a date for "when", a name for "who" or
"which") next to the question's words, whether it is the lede of a long report, and how highly its
chunk was retrieved. The weights were fitted by logistic regression on the dev sets
(`python -m bot.measurement.tuning`, see README).
"""

from __future__ import annotations

import re

from langchain_core.documents import Document

from bot.answering.kinds import last_question
from bot.answering.spans import is_no_name
from bot.answering.terms import content_terms, is_question, term_list

FEATURES = ("cos", "cos_gap", "lexical", "bigram", "cue", "cue_missing", "heading", "inv_rank",
            "length", "lede")
# Fitted by logistic regression (sentence contains a gold answer) on SQuAD 2.0 dev candidates;
# cue_missing was added by hand. `python -m bot.measurement.tuning` refits on both dev sets and compares:
# the refit did not beat these weights on RealTime QA, so they stay. The lede weight is what
# 5-fold cross-validation on RealTime QA picked in 4 of 5 folds; SQuAD's paragraphs are too short
# to have a lede.
WEIGHTS = {"cos": 1.01, "cos_gap": 1.77, "lexical": 3.41, "bigram": 1.61, "cue": 1.38,
           "cue_missing": -1.0, "heading": -0.34, "inv_rank": 1.56, "length": 0.22, "lede": 2.0}
# A candidate from a report whose retrieved text never names a person or thing the question names
# by a multi-word name ("How old was Mahsa Amini?": the Queen's report says "25 years old") is
# about something else. Set by hand, like cue_missing: no dev question moves at 1.0-2.0 (at 4.0
# SQuAD 2.0 loses one), and an outside probe's questions over 300 RealTime QA reports gained two.
W_SUBJECT_MISSING = 2.0
# A news report states its main facts in its first sentence (the lede), which lifts it when it holds
# the kind of thing asked for. A report has at least this many sentences, so the first line of a
# short paragraph is not taken for one.
LEDE_MIN_SENTENCES = 12
# Content words before and after a candidate answer that should echo the question: a quantity is
# named by the words that follow it ("450,000 South Korean soldiers").
CUE_BEFORE, CUE_AFTER = 2, 3

_CUES = {
    "number": re.compile(r"\bhow (many|much|long|old|far|big|large|tall|often)\b|"
                         r"\bwhat (number|percentage|percent|share|amount|proportion|age)\b|"
                         r"\bwhat (is|was|were|are) the (magnitude|number|percentage|price|cost|"
                         r"rate|age|amount|total|size|population|score|death toll|toll)\b", re.I),
    "date": re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|day|month)\b",
                       re.I),
    "person": re.compile(r"\bwho(m|se)?\b|\bwhich (person|man|woman|leader)\b", re.I),
    "name": re.compile(r"\b(which|what) (?!(is|was|were|are|did|does|do|has|have|had|will|would|"
                       r"can|could|should|happened|happens)\b)[a-z]+\b", re.I),
}
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                     r"twelve|dozen|hundred|thousand|million|billion|trillion)s?\b", re.I)
_DATE = re.compile(r"\b(1[6-9]|20)\d\d\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
                   r"[a-z]*\.?\s+\d{1,2}\b|\b(monday|tuesday|wednesday|thursday|friday|saturday|"
                   r"sunday|yesterday|today|tomorrow|last week|this week)\b", re.I)
# A run of capitalised words: the scorer's cue of a name (without spans.PROPER's glue words and
# initialisms, which the weights were not fitted with; with them 3 of 250 SQuAD 2.0 dev answers
# quote another sentence, none of them more often right).
_CAPITALISED = re.compile(r"\b[A-Z][\w&'’-]*(?:\s+[A-Z][\w&'’-]*)*")
# Page furniture that extraction can leave in an article's text (video players, link boxes,
# and the headlines of other stories linked in the text: "More: ...", "Previously: ...").
_FURNITURE = re.compile(r"^\s*(?:JUST WATCHED|MUST WATCH|READ MORE|RELATED|WATCH|SIGN UP|"
                        r"ADVERTISEMENT)\b|Replay More Videos|^\s*(?:More|MORE|Previously|"
                        r"Related|Read more|Also read|ALSO READ|Opinion|OPINION|Contributing|"
                        r"Follow every game)\s*:")
_PERSON = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s*)?[A-Z][a-z]+)+\b")


def rank_sentences(question: str, docs: list[Document]) -> list[tuple[float, int, dict]]:
    """(score, doc number, sentence) for every candidate sentence, best first."""
    terms = term_list(question)
    cue = question_cue(question)
    found = candidates(docs)
    max_cos = max((s["score"] for _, s in found), default=0.0)
    missing = subject_missing(question, docs)
    out = [(score(sentence_features(s, n, terms, cue, max_cos))
            - W_SUBJECT_MISSING * missing.get(n, 0.0), n, s) for n, s in found]
    out.sort(key=lambda row: row[0], reverse=True)
    return out


def subject_missing(question: str, docs: list[Document]) -> dict[int, float]:
    """{doc number: share of the question's multi-word names whose last word its article's
    retrieved text and headline never name}; {} when the question names none."""
    asked = last_question(question)
    names = [m.group().split()[-1].lower() for m in _PERSON.finditer(asked) if m.start() > 0]
    if not names:
        return {}
    texts: dict[object, str] = {}
    for doc in docs:
        key = doc.metadata.get("article_id")
        texts[key] = f"{texts.get(key, '')} {doc.metadata.get('title', '')} {doc.page_content}"
    share = {key: sum(not re.search(rf"\b{re.escape(name)}", text.lower()) for name in names)
             / len(names) for key, text in texts.items()}  # once per article, not per chunk
    return {n: share[doc.metadata.get("article_id")] for n, doc in enumerate(docs, start=1)}


def candidates(docs: list[Document]) -> list[tuple[int, dict]]:
    """(doc number, sentence) of every retrieved sentence, each sentence once.

    The lede of a long report comes back marked ``"lede": True``. A sentence that asks a
    question ("What other moves did the Fed make?", a teaser or cross-head) answers none, and
    neither does a news page's furniture left in the text ("JUST WATCHED ... Replay More
    Videos", "READ MORE:").
    """
    found, seen = [], set()
    for n, doc in enumerate(docs, start=1):
        lede = lede_of(doc)
        for sentence in doc.metadata.get("sentences", []):
            key = (doc.metadata.get("article_id"), sentence.get("n", sentence["start"]))
            if is_question(sentence["text"]) or _FURNITURE.search(sentence["text"]):
                continue
            if key not in seen:  # overlapping chunks share a sentence: keep the better-ranked
                seen.add(key)
                found.append((n, {**sentence, "lede": True} if sentence is lede else sentence))
    return found


def lede_of(doc: Document) -> dict | None:
    """The first sentence that is not a heading ("CNN —", a cross-head), when doc is the opening
    chunk of a report of at least LEDE_MIN_SENTENCES sentences."""
    meta = doc.metadata
    if meta.get("first_sentence") != 0 or meta.get("n_sentences", 0) < LEDE_MIN_SENTENCES:
        return None
    return next((s for s in meta.get("sentences", []) if not is_heading(s["text"])), None)


def sentence_features(sentence: dict, n: int, question_terms: list[str], cue: str | None,
                      max_cos: float) -> dict[str, float]:
    """The scorer's inputs for one candidate sentence from the n-th retrieved chunk."""
    text = sentence["text"]
    words = term_list(text)
    wanted = set(question_terms)
    pairs = _pairs(question_terms)
    fit = cue_fit(text, cue, wanted) if cue else 0.0
    return {
        "cos": sentence["score"],
        "cos_gap": sentence["score"] - max_cos,
        "lexical": len(wanted & set(words)) / len(wanted) if wanted else 0.0,
        "bigram": len(pairs & _pairs(words)) / len(pairs) if pairs else 0.0,
        "cue": fit,
        "cue_missing": float(cue is not None and fit == 0.0),
        "heading": float(is_heading(text)),
        "inv_rank": 1.0 / n,
        "length": min(len(text), 600) / 200,
        "lede": float(sentence.get("lede", False) and (cue is None or fit > 0)),
    }


def score(features: dict[str, float]) -> float:
    """The fitted linear score of a candidate (higher is more likely to hold the answer)."""
    return sum(WEIGHTS[name] * features[name] for name in FEATURES)


def question_cue(question: str) -> str | None:
    """The kind of answer a question asks for: number, date, person, name, or None."""
    asked = last_question(question)
    for cue, pattern in _CUES.items():
        if pattern.search(asked):
            return cue
    return None


def answer_spans(text: str, cue: str, question_terms: set[str]) -> list[re.Match]:
    """Things of the asked-for kind in text that the question does not already name."""
    pattern = {"number": _NUMBER, "date": _DATE, "person": _PERSON, "name": _CAPITALISED}[cue]
    spans = []
    for match in pattern.finditer(text):
        if cue == "name" and ((match.start() == 0 and " " not in match.group())
                              or is_no_name(match.group())):
            continue  # every sentence starts with a capital word; weekdays are not answers
        if content_terms(match.group()) <= question_terms:
            continue  # the question's own number or name is not an answer
        spans.append(match)
    return spans


def cue_fit(text: str, cue: str, question_terms: set[str]) -> float:
    """0..1: does text hold a new thing of the asked-for kind, next to the question's words?

    0 when it holds none; 0.5 for one with unrelated neighbours; up to 1 when the words around it
    are the question's ("450,000 South Korean soldiers" for "how many South Korean soldiers").
    """
    best = 0.0
    for match in answer_spans(text, cue, question_terms):
        before = term_list(text[:match.start()])[-CUE_BEFORE:]
        after = term_list(text[match.end():])[:CUE_AFTER]
        near = set(before) | set(after)
        local = len(near & question_terms) / len(question_terms) if question_terms else 0.0
        best = max(best, 0.5 + 0.5 * local)
    return best


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a cross-head, not an answer."""
    return len(text.split()) < 8 and not text.rstrip().endswith((".", "!", "?", '"', "”"))


def _pairs(terms: list[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))
