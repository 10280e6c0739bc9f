"""The offline answer step: pick the sentence that answers the question, or abstain.

Each candidate sentence of the retrieved chunks already has its cosine similarity to the question
(from the retriever). The score adds small, measured nudges: question terms the sentence shares,
and whether it holds the kind of thing the question asks for (a number for "how many", a date for
"when", a name for "who"). If even the most similar sentence is not similar enough, abstain.
"""

from __future__ import annotations

import re
from functools import lru_cache

from langchain_core.documents import Document
from pydantic import BaseModel, Field

MAX_ANSWER_CHARS = 400
# Abstain when no retrieved sentence reaches this cosine similarity to the question.
# Chosen on SQuAD 2.0 dev and the seed questions: see README "Abstention threshold".
MIN_SIMILARITY = 0.35
LEXICAL_WEIGHT = 0.15
BIGRAM_WEIGHT = 0.15
CUE_WEIGHT = 0.30
HEADING_PENALTY = 0.15
# Content words before and after a candidate answer that should echo the question: a quantity is
# named by the words that follow it ("450,000 South Korean soldiers").
CUE_BEFORE, CUE_AFTER = 2, 3

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_STOP = set("""a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours out over own same she
should so some such than that the their theirs them then there these they this those through to too
under until up very was we were what when where which while who whom why will with would you your
many much did does according said says say""".split())
_CUES = {
    "number": re.compile(r"\bhow (many|much|long|old|far|big|large|tall|often)\b|"
                         r"\bwhat (number|percentage|percent|share|amount|proportion)\b", re.I),
    "date": re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|day|month)\b",
                       re.I),
    "person": re.compile(r"^\W*(and\s+)?who(m|se)?\b|\bwhich (person|man|woman|leader)\b", re.I),
}
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                     r"twelve|dozen|hundred|thousand|million|billion|trillion)s?\b", re.I)
_DATE = re.compile(r"\b(1[6-9]|20)\d\d\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)"
                   r"[a-z]*\.?\s+\d{1,2}\b|\b(monday|tuesday|wednesday|thursday|friday|saturday|"
                   r"sunday|yesterday|today|tomorrow|last week|this week)\b", re.I)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.\s*)?[A-Z][a-z]+)+\b")


class Draft(BaseModel):
    """What an answer step returns: text whose [n] are 1-based positions in the retrieved docs."""

    text: str
    quotes: dict[int, str] = Field(default_factory=dict)
    abstained: bool = False
    answered_by: str = "extractive"
    verified: bool = True
    warnings: list[str] = Field(default_factory=list)


class ExtractiveAnswerer:
    """Choose the best supporting sentence from the retrieved chunks and cite it."""

    def __init__(self, min_similarity: float = MIN_SIMILARITY) -> None:
        self.min_similarity = min_similarity

    def __call__(self, inputs: dict) -> Draft:
        """LCEL entry point: {"question", "docs", ...} -> Draft."""
        return self.extract(inputs["question"], inputs["docs"])

    def extract(self, question: str, docs: list[Document]) -> Draft:
        """The best sentence as the answer with its [n], or an abstention."""
        ranked = rank_sentences(question, docs)
        if not ranked or ranked[0][2]["score"] < self.min_similarity:
            return Draft(text="", abstained=True)
        _, n, sentence = ranked[0]
        return Draft(text=f"{shorten(sentence['text'])} [{n}]", quotes={n: sentence["text"]})


def rank_sentences(question: str, docs: list[Document]) -> list[tuple[float, int, dict]]:
    """(score, doc number, sentence) for every candidate sentence, best first."""
    terms = term_list(question)
    cue = question_cue(question)
    out = []
    for n, doc in enumerate(docs, start=1):
        for sentence in doc.metadata.get("sentences", []):
            out.append((score_sentence(sentence, terms, cue), n, sentence))
    out.sort(key=lambda row: row[0], reverse=True)
    return out


def score_sentence(sentence: dict, question_terms: list[str], cue: str | None) -> float:
    """Cosine similarity plus nudges for shared words, shared word pairs and the kind of answer."""
    text = sentence["text"]
    words = term_list(text)
    wanted = set(question_terms)
    score = sentence["score"]
    if wanted:
        score += LEXICAL_WEIGHT * len(wanted & set(words)) / len(wanted)
    pairs = _pairs(question_terms)
    if pairs:
        score += BIGRAM_WEIGHT * len(pairs & _pairs(words)) / len(pairs)
    if cue:
        score += CUE_WEIGHT * cue_fit(text, cue, wanted)
    if is_heading(text):
        score -= HEADING_PENALTY
    return score


def question_cue(question: str) -> str | None:
    """The kind of answer a question asks for: number, date, person, or None."""
    for cue, pattern in _CUES.items():
        if pattern.search(question):
            return cue
    return None


def cue_fit(text: str, cue: str, question_terms: set[str]) -> float:
    """0..1: does text hold a new thing of the asked-for kind, next to the question's words?

    0 when it holds none; 0.5 for one with unrelated neighbours; up to 1 when the words around it
    are the question's ("450,000 South Korean soldiers" for "how many South Korean soldiers").
    """
    pattern = {"number": _NUMBER, "date": _DATE, "person": _NAME}[cue]
    best = 0.0
    for match in pattern.finditer(text):
        if content_terms(match.group()) <= question_terms:
            continue  # the question's own number or name is not an answer
        before = term_list(text[:match.start()])[-CUE_BEFORE:]
        after = term_list(text[match.end():])[:CUE_AFTER]
        near = set(before) | set(after)
        local = len(near & question_terms) / len(question_terms) if question_terms else 0.0
        best = max(best, 0.5 + 0.5 * local)
    return best


def is_heading(text: str) -> bool:
    """A short line without closing punctuation: a cross-head, not an answer."""
    return len(text.split()) < 8 and not text.rstrip().endswith((".", "!", "?", '"', "”"))


def shorten(text: str, limit: int = MAX_ANSWER_CHARS - 8) -> str:
    """Text cut at a word boundary to fit the answer limit (room left for the marker)."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def content_terms(text: str) -> set[str]:
    """Stemmed, lower-cased words of text without stop words."""
    return set(term_list(text))


def term_list(text: str) -> list[str]:
    """Stemmed, lower-cased words of text without stop words, in order."""
    return [_stem(w.lower().strip("'’-")) for w in _WORD.findall(text)
            if w.lower() not in _STOP and len(w) > 1]


def _pairs(terms: list[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")
