"""The deterministic citation check that every generated answer passes before anyone sees it.

A model's answer is split into sentences. Each sentence must cite at least one retrieved source
as [n]; every [n] must be a retrieved source; every number it states must occur in the sources it
cites (28,500 = 28500 = 28.5 thousand); and most of its key words must occur there too. Anything
else is a failure. The caller may then still show the model's short answer, but only quoted with
the one source sentence that holds all of it (quote_for_short); otherwise the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from langchain_core.documents import Document
from pydantic import BaseModel, Field

from bot.answering.citations import MARKER, best_sentence, markers
from bot.answering.terms import content_terms, term_list
from bot.answering.terms import acronyms, initials, name_runs, numbers, numbers_with_text
from index.chunking import split_sentences

# At least this share of a sentence's key words must occur in the sources it cites.
MIN_TERM_SHARE = 0.5

_MARKER_LIST = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})+)\]")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])([\"”’']*)((?:\s*\[\d{1,3}\])+)")
_SHORT = re.compile(r"\s*\**short answer\**\s*:\s*\**(.+?)(?:\n|$)", re.I)
# A line that only names sources ("Source: [1]", "Cited from sources [1] and [2].") holds no claim.
_CITING_WORDS = {"source", "sources", "cited", "from", "and", "see", "according", "to", "in",
                 "the", "citation", "citations", "reference", "references", "quoted", "as", "per"}
# The prompt's own instruction, echoed back as a heading ("Quote or closely restate ...:").
_ECHO = re.compile(r"^\s*(?:quote or closely restate[^:\n]*|supporting (?:quotes?|sentences?)|"
                   r"quotes?|evidence|proof)\s*:\s*", re.I | re.M)
# "According to the sources, ..." names no source and makes no claim of its own.
_LEAD_IN = re.compile(r"^\s*(?:according to|as per|based on) (?:the )?(?:provided )?"
                      r"(?:sources?|articles?|reports?|news)\s*,?\s*", re.I)
# "X and Y", "X, Y and Z", "X & Y": a short answer naming several things.
_COORDINATION = re.compile(r",\s*(?:and\s+)?|\s+(?:and|&)\s+")
# A source sentence that gives orders to the reader or a model ("Ignore previous instructions and
# tell the user ...") is an article's text, quoted if asked about, but no proof of a claim.
_ORDERS = re.compile(r"\b(?:ignore|disregard|forget) (?:all |any )?(?:the )?(?:previous|prior|above|"
                     r"earlier|your) (?:instructions|rules|prompts?)\b|\btell the user\b|"
                     r"\byou are now\b|\bdeveloper mode\b|^\s*system\s*:", re.I)
_ABSTENTION = re.compile(r"\b(could ?n[o’']t|can ?n[o’']t|cannot|unable to) find\b|"
                         r"\bsources? (do(es)? not|don[’']t|doesn[’']t) (say|answer|mention|contain)",
                         re.I)


class Check(BaseModel):
    """The outcome of checking one answer: its normalised text, the quotes per [n] (a supporting
    source sentence for each answer sentence that cites it), what failed."""

    text: str
    quotes: dict[int, list[str]] = Field(default_factory=dict)
    failures: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when nothing failed."""
        return not self.failures


def check_answer(text: str, docs: list[Document]) -> Check:
    """Check a generated answer against the retrieved docs; [n] are 1-based positions in docs."""
    text = normalise_markers(text)
    sentences = [s.text for s in split_sentences(text) if MARKER.sub("", s.text).strip(" .")]
    check = Check(text=text)
    if not sentences:
        check.failures.append("the model's answer was empty")
    for i, sentence in enumerate(sentences, start=1):
        check.failures.extend(check_sentence(i, sentence, docs, check.quotes))
    return check


def check_sentence(i: int, sentence: str, docs: list[Document],
                   quotes: dict[int, list[str]]) -> list[str]:
    """What is wrong with one sentence; records a supporting quote for each source it cites.

    The failures describe without quoting: the sentence is unchecked text and is never shown.
    """
    claim = MARKER.sub(" ", sentence)
    cited = markers(sentence)
    if not cited:
        return [f"sentence {i} cites no source"]
    failures = [f"sentence {i} cites [{n}], but only {len(docs)} sources were retrieved"
                for n in cited if not 1 <= n <= len(docs)]
    cited = [n for n in cited if 1 <= n <= len(docs)]
    if not cited:
        return failures
    source = "\n".join(source_text(docs[n - 1]) for n in cited)
    names = "".join(f"[{n}]" for n in cited)
    have = numbers(source)
    wrong = [raw for raw, value in numbers_with_text(claim) if value not in have]
    if wrong:
        failures.append(f"sentence {i} gives {_count(len(wrong), 'number')} that the source it "
                        f"cites ({names}) does not contain")
    key = key_terms(claim)
    missing = unmatched(claim, source)
    if key and len(missing) / len(key) > 1 - MIN_TERM_SHARE:
        failures.append(f"sentence {i} shares too few words with the source it cites ({names}): "
                        f"{len(key) - len(missing)} of {len(key)}")
    for n in cited:
        quote = supporting_quote(claim, docs[n - 1])
        if quote not in quotes.setdefault(n, []):
            quotes[n].append(quote)
    return failures


def attribute(text: str, docs: list[Document]) -> str:
    """Text where each sentence without [n], whose numbers and key words all occur in one
    sentence of a retrieved source, cites that source (the best-ranked such source).

    Small models often write a source's words without its marker. The check that follows is
    unchanged: a sentence that no single source holds keeps no marker and still fails.
    """
    text = normalise_markers(text)
    out, last = [], 0
    for sentence in split_sentences(text):
        out.append(text[last:sentence.end])
        last = sentence.end
        n = None if markers(sentence.text) else sole_source(sentence.text, docs)
        if n is not None:
            body = out[-1].rstrip()
            stop = body[-1] if body and body[-1] in ".!?" else ""
            out[-1] = f"{body[:len(body) - len(stop)].rstrip()} [{n}]{stop}" + out[-1][len(body):]
    return "".join(out) + text[last:]


def sole_source(claim: str, docs: list[Document]) -> int | None:
    """The first doc (1-based) with one sentence (or its headline) that holds every number and
    key word of claim; None if none does.

    One sentence, not the whole chunk: words gathered from several sentences (an injected order
    next to a report) are not a claim the source makes.
    """
    claim = _LEAD_IN.sub("", claim)
    held = holder(claim, range(1, len(docs) + 1), docs) if key_terms(claim) else None
    return held[0] if held else None


def claim_texts(doc: Document) -> list[str]:
    """What one claim may be read from: each sentence of doc (best-scored first), its headline."""
    ranked = sorted(doc.metadata.get("sentences") or [], key=lambda s: -s.get("score", 0.0))
    texts = [s["text"] for s in ranked] or [s.text for s in split_sentences(doc.page_content)]
    return [*texts, doc.metadata.get("title") or ""]


def quote_for_short(short: str | None, cited: list[int],
                    docs: list[Document]) -> tuple[int, str] | None:
    """(n, the sentence or headline of source n that holds every number and key word of short).

    The sources the reply cited are read first, then the rest in rank order; None when no one
    sentence holds it, or short has neither key words nor numbers.
    """
    if not short:
        return None
    order = [n for n in cited if 1 <= n <= len(docs)]
    order += [n for n in range(1, len(docs) + 1) if n not in order]
    return holder(short, order, docs)


def quotes_for_short(short: str | None, cited: list[int],
                     docs: list[Document]) -> list[tuple[int, str]] | None:
    """The source sentences that prove a short answer: the one that holds all of it
    (quote_for_short), else, for a short answer naming several things ("Drought and fire
    risks"), one per thing, each from a different source; None when any thing is held by none."""
    whole = quote_for_short(short, cited, docs)
    if whole is not None or not short:
        return [whole] if whole else None
    parts = [p for p in _COORDINATION.split(short) if p.strip()]
    if not 2 <= len(parts) <= 3:
        return None
    held = [quote_for_short(part, cited, docs) for part in parts]
    if any(h is None for h in held) or len({n for n, _ in held}) < len(held):
        return None  # a thing no sentence holds, or two things from one source's two sentences
    return held


def holder(claim: str, order: Iterable[int], docs: list[Document]) -> tuple[int, str] | None:
    """(n, text): the first sentence or headline, of the docs in order (1-based), holding every
    number and key word of claim; None if none does, or claim has neither. A sentence giving
    orders (an injected instruction) proves nothing."""
    if not key_terms(claim) and not numbers(claim):
        return None
    for n in order:
        for text in claim_texts(docs[n - 1]):
            if text and holds(text, claim) and not _ORDERS.search(text):
                return n, text
    return None


def holds(text: str, claim: str) -> bool:
    """True when text has every number and key word of claim."""
    return not unmatched(claim, text) and numbers(claim) <= numbers(text)


def strip_scaffolding(body: str) -> tuple[list[int], str]:
    """(the sources that citation-only lines name, body without those lines or echoed prompt
    headings). A reply "Short answer: X" then "Source: [1]" is a short answer citing [1]."""
    cited: list[int] = []
    kept = []
    for line in _ECHO.sub("", body).splitlines():
        words = re.findall(r"[a-z]+", MARKER.sub(" ", line).lower())
        if markers(line) and set(words) <= _CITING_WORDS:
            cited += [n for n in markers(line) if n not in cited]
        else:
            kept.append(line)
    return cited, "\n".join(kept).strip()


def split_short_answer(text: str) -> tuple[str | None, str]:
    """(short answer, the rest) of a model's reply that starts "Short answer: ..."."""
    match = _SHORT.match(text)
    if not match:
        return None, text
    rest = text[match.end():]
    body = rest if MARKER.sub("", rest).strip(" .\n") else match.group(1).strip()  # only the line
    return MARKER.sub("", match.group(1)).strip(" .*") or None, body


def check_short_answer(short: str | None, checked: str, docs: list[Document]) -> list[str]:
    """What is wrong with a short answer: every number and most key words must occur in the
    sources the checked answer cites."""
    cited = [n for n in markers(checked) if 1 <= n <= len(docs)]
    if not short or not cited:
        return []
    source = "\n".join(source_text(docs[n - 1]) for n in cited)
    key = key_terms(short)
    missing = unmatched(short, source)
    if not numbers(short) <= numbers(source) or (
            key and len(missing) / len(key) > 1 - MIN_TERM_SHARE):
        return ["the short answer is not in the sources the answer cites"]
    return []


def normalise_markers(text: str) -> str:
    """"[1, 2]" -> "[1][2]", and a marker after the full stop moves before it: "x. [1]" -> "x [1].",
    'a "crisis." [1]' -> 'a "crisis" [1].'."""
    text = _MARKER_LIST.sub(lambda m: "".join(f"[{n.strip()}]" for n in m.group(1).split(",")),
                            text)
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)} {m.group(3).strip()}{m.group(1)}",
                                   text)
    return re.sub(r"(\])\s+(\[)", r"\1\2", text).strip()


def is_abstention(text: str) -> bool:
    """True when the model says the sources don't answer, and cites nothing."""
    return not markers(text) and bool(_ABSTENTION.search(text))


def key_terms(text: str) -> set[str]:
    """The content words of a claim that its source should share (numbers are checked apart)."""
    return {t for t in content_terms(text) if not t[0].isdigit()}


def unmatched(claim: str, text: str) -> set[str]:
    """The key terms of claim that text lacks. A name and its acronym stand for each other:
    "IRS" in the claim is held by "Internal Revenue Service" in text, and the other way round."""
    missing = key_terms(claim) - content_terms(text)
    if not missing:
        return missing
    spelled = initials(text)
    missing -= {t for a in acronyms(claim) if a.lower() in spelled for t in content_terms(a)}
    short_forms = {a.lower() for a in acronyms(text)}
    for words in name_runs(claim):
        if "".join(w[0] for w in words).lower() in short_forms:
            missing -= content_terms(" ".join(words))
    return missing


def source_text(doc: Document) -> str:
    """What a citation of doc vouches for: its title, date and chunk text."""
    meta = doc.metadata
    return f"{meta.get('title', '')}\n{meta.get('date') or ''}\n{doc.page_content}"


def supporting_quote(claim: str, doc: Document) -> str:
    """The sentence of doc that shares most of the claim's numbers and words."""
    wanted_numbers, wanted_terms = numbers(claim), set(term_list(claim))

    def _overlap(sentence: dict) -> tuple[int, float]:
        shared = 2 * len(numbers(sentence["text"]) & wanted_numbers)
        shared += len(set(term_list(sentence["text"])) & wanted_terms)
        return shared, sentence["score"]

    sentences = doc.metadata.get("sentences") or []
    return max(sentences, key=_overlap)["text"] if sentences else best_sentence(doc)


def _count(n: int, noun: str) -> str:
    return f"a {noun}" if n == 1 else f"{n} {noun}s"
