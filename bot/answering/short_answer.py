"""Choose the short answer: the span of the asked-for kind that the retrieved reports support best.

Candidates are the spans of the asked-for kind (bot.answering.spans) in the best-scored sentences
and in the headlines of the best chunks. Each is scored by how well its sentence scored, how
many retrieved reports name it (redundancy), whether the question's words stand next to it, and
whether it merely repeats the question. The quote is the sentence (or headline) that holds it.
Questions that ask why or how get the phrase of the best sentence that the question lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from langchain_core.documents import Document

from bot.answering.kinds import (answer_kind, asks_for_several, head_phrase, last_question,
                                 place_type)
from bot.answering.spans import (INITIALISM, country_of, find_spans, is_place_of, kind_labels,
                                 relabel, with_last_dot)
from bot.answering.terms import (NAME_GLUE, acronyms, content_terms, initials, is_question,
                                 term_list)
from index.entities import unpack

# How many of the best-scored sentences, and of the best chunks' headlines, offer candidates.
TOP_SENTENCES = 6
TOP_HEADLINES = 3
MAX_WORDS = 10
# Score terms, picked by a grid search on both dev sets (README "How it answers"): RealTime QA
# short-answer accuracy 0.357 (first guesses 0.6, 1.0, 2.0, 0.5: 0.316), SQuAD 2.0 0.294.
W_AGREE = 1.5        # per further retrieved article that names the span
W_NEAR = 3.0         # share of the question's words within a few words of the span
W_ECHO = 2.0         # share of the span's words that the question already has
# A span whose last word is the question's head noun says it is of the kind asked ("Yosemite
# National Park" for "which national park"). Swept 0-4 on both dev sets: 1 adds one SQuAD exact
# match (0.198 -> 0.206) and changes nothing else; 3 adds a RealTime QA short answer but costs a
# SQuAD answer; 4 loses both.
W_HEAD = 1.0
# "Which country": a country the reports name, unless it scores this far below the best place
# (a city in the best sentence beats an unrelated country in a weak one). RealTime QA dev: any
# margin from 3.5 up gives the same answers, one more right than without the rule (0, 1, 2 and
# 3 give none); SQuAD 2.0's one continent question abstains.
PLACE_MARGIN = 4.0
# A follow-up's candidate that the answer it leans on names: the thing the conversation is
# about. As much as two more reports naming it (W_AGREE); follow-ups only, so no dev figure moves.
W_FOCUS = 3.0
HEADLINE_GAP = 0.0   # a headline counts as a sentence this far below its chunk's best
NEAR_WORDS = 4

_UNITS = content_terms("years months weeks days hours minutes old")
# Questions that ask what happened rather than for a thing: their short answer is a headline.
_OPEN = re.compile(r"^\s*(?:so\s+)?(?:what(?:'s| is| was)? (?:happening|happened|going on|new|"
                   r"the latest)|tell me (?:about|more)|any news|what do we know)\b", re.I)
_DID = re.compile(r"^\s*what (?:did|does|do|has|have|will|would) (.+?) (?:do|done|say|said|"
                  r"decide|decided|announce|announced)\b", re.I)
_OUTLET_SUFFIX = re.compile(r"\s+(?:[-|–—]\s+[^-|–—]{2,40}|\.\.\.)$")
# Why-questions: the reason is the clause after a cue ("because", "due to", "to avoid").
_WHY = re.compile(r"\bwhy\b", re.I)
_REASON = re.compile(r"\b(?:because(?: of)?|due to|owing to|thanks to|citing|amid|as a result of|"
                     r"in order to|to avoid|to prevent|for fear of|so that)\b[^,;.:!?()—]*", re.I)
# A word, a number with its currency, ordinal or percent ("$4.99", "246th", "13%"), or an
# initialism ("U.S.").
_TOKEN = re.compile(r"[$£€]?\d[\d,.]*\d[a-z]*%?|[$£€]?[\w’'&.-]+%?")


@dataclass
class ShortAnswer:
    """The short answer, the doc number that supports it, and the text that holds it."""
    text: str
    n: int
    quote: str
    sentence: dict | None  # the ranked sentence holding it; None for a headline
    score: float


def choose_short_answer(question: str, ranked: list[tuple[float, int, dict]],
                        docs: list[Document], *, headlines: bool = True,
                        focus: str = "") -> ShortAnswer | None:
    """The best-supported span of the asked-for kind, or the best sentence's new phrase;
    headlines=False: from the ranked sentences alone. A span that focus (the answer a
    follow-up leans on) names gains W_FOCUS."""
    if not ranked:
        return None
    terms = content_terms(last_question(question))  # a follow-up's own words place its answer
    kind = answer_kind(question)
    if kind is not None:
        named = named_in(question)
        head = content_terms(" ".join(head_phrase(question)))
        found: list[tuple[ShortAnswer, list[str]]] = []
        texts = candidate_texts(ranked, docs, headlines)
        labels = kind_labels([s.get("ents") for _, _, s in ranked] + [t[4] for t in texts], kind)
        for text, n, sentence, base, ents in texts:
            spans = [span for span in find_spans(text, kind, relabel(ents, labels))
                     if not names_again(span, named)]
            for span in spans:
                scored = score_span(span, text, base - ranked[0][0], terms, docs, head)
                if scored is not None:
                    found.append((ShortAnswer(span, n, text, sentence, scored), spans))
        if focus:  # "who is he?" after "Gustavo Petro will become Colombia's first ..."
            found = [(replace(row[0], score=row[0].score + W_FOCUS), row[1])
                     if row[0].text in focus else row for row in found]
        place = place_type(question) if kind == "place" else None
        if place == "country":  # "Ukrainian first lady Olena Zelenska" names Ukraine
            found += nationalities(texts, ranked[0][0], terms, docs, head)
        if place is not None:  # "which country": a city the reports name is no answer to it,
            top = max((row[0].score for row in found), default=0.0)  # unless the only country
            found = [row for row in found if is_place_of(row[0].text, place)  # is far weaker
                     and row[0].score >= top - PLACE_MARGIN] or found
        if found:
            best, spans = max(found, key=lambda row: row[0].score)
            best, spans = full_name(best, spans, found)
            return coordinated(best, spans) if asks_for_several(question) else best
    _, n, sentence = ranked[0]
    told = about_headline(question, ranked, docs) if headlines else None
    if told is not None:  # "what happened in Sri Lanka?": a headline says it in a few words
        return told
    phrase = (_WHY.search(question) and reason(sentence["text"])) or new_phrase(
        sentence["text"], terms)
    return ShortAnswer(phrase, n, sentence["text"], sentence, 0.0)


def nationalities(texts: list, best: float, terms: set[str], docs: list[Document],
                  head: set[str]) -> list[tuple[ShortAnswer, list[str]]]:
    """Countries named by the nationality words (NORP) of the candidate texts, each scored as
    its word is: "Saudi Arabian officials" offers "Saudi Arabia"."""
    found = []
    for text, n, sentence, base, ents in texts:
        for span, label in ents or []:
            country = country_of(span) if label == "NORP" else None
            scored = score_span(span, text, base - best, terms, docs, head) if country else None
            if scored is not None:
                found.append((ShortAnswer(country, n, text, sentence, scored), [country]))
    return found


def about_headline(question: str, ranked: list[tuple[float, int, dict]],
                   docs: list[Document]) -> ShortAnswer | None:
    """For a question that asks what happened ("what happened in Sri Lanka?", "tell me about
    monkeypox", "what did the Fed do?"), the headline of the best-ranked report that names at
    least half of what it asks about; None for other questions or when no headline does."""
    opened, did = _OPEN.search(question), _DID.search(question)
    if opened is None and did is None:
        return None
    subject = content_terms(question[opened.end():] if opened else did.group(1))
    for n in dict.fromkeys(n for _, n, _ in ranked):
        headline = news_headline(docs[n - 1])
        if headline and len(subject & content_terms(headline)) * 2 >= len(subject):
            return ShortAnswer(headline, n, headline, None, 0.0)
    return None


def news_headline(doc: Document) -> str | None:
    """A doc's headline as a short answer: without its outlet ("... - CNN") or a cut-off tail
    ("..."), its first sentence, cut at its first comma when longer than MAX_WORDS words ("Sri
    Lanka: Protesters storm prime minister's office, as president flees" -> "Sri Lanka:
    Protesters storm prime minister's office"). None for no headline, a slug ("irs tax
    backlog"), a headline that asks, or one that does not fit."""
    title = (doc.metadata.get("title") or "").strip()
    title = _OUTLET_SUFFIX.sub("", title.removesuffix("...").removesuffix("…").strip()).strip()
    title = re.split(r"(?<=[.!?])\s+", title)[0]
    if len(title.split()) > MAX_WORDS:
        title = title.split(",")[0]
    words = title.split()
    if len(words) < 3 or len(words) > MAX_WORDS or title == title.lower() or is_question(title):
        return None
    return title.rstrip(" .,;:")


def named_in(question: str) -> set[str]:
    """The acronyms a question uses and those its names spell ("US", "the World Health
    Organization" -> "who"), lower-cased."""
    return {a.lower() for a in acronyms(question)} | initials(question)


def names_again(span: str, named: set[str]) -> bool:
    """Whether span is a name the question already gives in another form: "United States" for
    a question saying "US", "WHO" for one saying "World Health Organization"."""
    words = [w for w in span.split() if w.lower() not in NAME_GLUE]
    if len(words) > 1 and all(w[:1].isupper() for w in words):
        return "".join(w[0] for w in words).lower() in named
    return span.isupper() and span.lower() in named


def full_name(best: ShortAnswer, spans: list[str], found: list[tuple[ShortAnswer, list[str]]],
              ) -> tuple[ShortAnswer, list[str]]:
    """The candidate that writes the chosen name in full ("JetBlue" -> "JetBlue Airways", "Biden"
    -> "Joe Biden"): a mention by a part of a name is a mention of the name. The best-scored such
    candidate with its text's spans; best itself when there is none."""
    fuller = [(other, other_spans) for other, other_spans in found
              if other.text != best.text and is_full_name(other.text, best.text)]
    return max(fuller, key=lambda row: row[0].score) if fuller else (best, spans)


def is_full_name(name: str, part: str) -> bool:
    """Whether name is part with more capitalised words before or after it."""
    if not (name.startswith(part + " ") or name.endswith(" " + part)):
        return False
    extra = name.removeprefix(part + " ") if name.startswith(part + " ") else name[:-len(part) - 1]
    words = name.split()
    return (all(w[:1].isupper() or w.lower() in NAME_GLUE for w in extra.split())
            and words[0][:1].isupper() and words[-1][:1].isupper())


def coordinated(best: ShortAnswer, spans: list[str]) -> ShortAnswer:
    """For a question asking for several things, the chosen one with the things of the same
    kind that its text lists beside it: "Sweden" -> "Sweden and Finland"."""
    others = "|".join(re.escape(s) for s in spans if s != best.text)
    if not others:
        return best
    item = rf"(?:{re.escape(best.text)}|{others})"
    for match in re.finditer(rf"{item}(?:\s*(?:,|,? and|,? &)\s*{item})+", best.quote):
        if best.text in match.group():
            return ShortAnswer(match.group(), best.n, best.quote, best.sentence, best.score)
    return best


def short_from_text(question: str, text: str) -> str:
    """The short answer a written answer gives: its first span of the asked-for kind that the
    question does not name, else its phrase that the question lacks."""
    return kind_span(question, text) or new_phrase(text, content_terms(question))


def kind_span(question: str, text: str) -> str | None:
    """The first span of text of the kind the question asks for (a number, a date, a name ...)
    that the question does not already name; None when the question asks for no kind or text
    has none."""
    terms = content_terms(question)
    kind = answer_kind(question)
    for span in find_spans(text, kind) if kind else []:
        own = content_terms(span)
        if len(span.split()) <= MAX_WORDS and not (own and own <= terms):
            return span
    return None


def candidate_texts(ranked: list[tuple[float, int, dict]], docs: list[Document],
                    headlines: bool = True) -> list[tuple[str, int, dict | None, float, list | None]]:
    """(text, doc number, sentence or None for a headline, base score, its entities or None when
    untagged) of every candidate holder."""
    out = [(s["text"], n, s, score, s.get("ents")) for score, n, s in ranked[:TOP_SENTENCES]]
    if not headlines:
        return out
    best_in_doc: dict[int, float] = {}
    for score, n, _ in ranked:
        best_in_doc.setdefault(n, score)
    seen: set[str] = set()
    for n, doc in enumerate(docs, start=1):
        title = (doc.metadata.get("title") or "").strip()
        if title == title.lower():  # none, or a slug ("saudi arabia rainbow colored toys ban
            continue                # intl"): no headline to quote
        if title not in seen and n in best_in_doc and len(seen) < TOP_HEADLINES:
            seen.add(title)
            tagged = doc.metadata.get("title_ents")
            out.append((title, n, None, best_in_doc[n] - HEADLINE_GAP,
                        unpack(title, tagged) if tagged is not None else None))
    return out


def score_span(span: str, text: str, gap: float, question_terms: set[str],
               docs: list[Document], head: frozenset[str] | set[str] = frozenset(),
               ) -> float | None:
    """A candidate's score, or None when it only repeats the question or is too long. Words of
    the question's head ("which national park") name the kind asked for, so a span holding
    them ("Yosemite National Park") does not repeat the question by them, and one ending in
    the head noun gains W_HEAD."""
    own = content_terms(span)
    if any(t[0].isdigit() for t in own):  # "12 years" for "how many years": the unit is asked
        own = {t for t in own if t not in _UNITS}
    if len(span.split()) > MAX_WORDS or (own and own <= question_terms):
        return None
    echo = len(own & question_terms - head) / len(own) if own else 0.0
    at = text.find(span)
    before = term_list(text[:max(at, 0)])[-NEAR_WORDS:]
    after = term_list(text[at + len(span):])[:NEAR_WORDS] if at >= 0 else []
    near = len(set(before + after) & question_terms) / len(question_terms) if question_terms else 0
    last = term_list(span)[-1:]
    says_kind = bool(last) and last[0] in head  # "Yosemite National Park"
    return (gap + W_AGREE * (agreeing(span, docs) - 1) + W_NEAR * near - W_ECHO * echo
            + W_HEAD * says_kind)


def agreeing(span: str, docs: list[Document]) -> int:
    """How many distinct retrieved articles name the span (in a chunk or its headline)."""
    pattern = re.compile(r"(?<![\w])" + re.escape(span.lower()) + r"(?![\w])")
    articles = {d.metadata.get("article_id")
                for d in docs
                if pattern.search(f"{d.metadata.get('title', '')}\n{d.page_content}".lower())}
    return max(len(articles), 1)


def new_phrase(sentence: str, question_terms: set[str]) -> str:
    """The longest run of the sentence's words that the question does not have (<= MAX_WORDS)."""
    words = _TOKEN.findall(sentence)
    best: list[str] = []
    run: list[str] = []
    for word in words + ["\0"]:
        terms = content_terms(word)
        if word != "\0" and not (terms and terms <= question_terms):
            run.append(word)
            continue
        trimmed = _trim(run)
        if len(content_terms(" ".join(trimmed))) > len(content_terms(" ".join(best))):
            best = trimmed
        run = []
    phrase = " ".join((best or words)[:MAX_WORDS])
    return with_last_dot(phrase.strip(" ,.;:"), phrase)  # "the U.S."


def reason(sentence: str) -> str | None:
    """The reason a sentence gives, from its cue to the end of the clause (<= MAX_WORDS words,
    without trailing small words): "... citing a risk of fire while parked" -> "citing a risk of
    fire while parked"; None when it gives none by a cue."""
    found = _REASON.search(sentence)
    if found is None:
        return None
    words = _TOKEN.findall(found.group())[:MAX_WORDS]
    while words and not _says(words[-1]):
        words = words[:-1]
    return " ".join(words) if len(words) > 1 else None


def _trim(words: list[str]) -> list[str]:
    while words and not _says(words[0]):
        words = words[1:]
    while words and not _says(words[-1]):
        words = words[:-1]
    return words


def _says(word: str) -> bool:
    """Whether a word carries meaning: a content word, or an initialism ("U.S.", which would
    read as the stop word "us")."""
    return bool(content_terms(word)) or bool(INITIALISM.fullmatch(word))
