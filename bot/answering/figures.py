"""Earlier figures: an older retrieved report that gives a different number for the same thing.

Deliberately narrow, so it is right when it speaks: the quoted sentence of the answer's first
source must hold a figure followed by a unit word ("28,000 troops", "3.5 percent"); another
retrieved article, of another story and dated before that source, must hold the same unit word
with a different number in its best sentence, and that sentence must match the question nearly
as well as the quoted one. Newer reports with other figures are left alone: the answer step
already prefers recent articles, and reordering its text is not this module's business.
"""

from __future__ import annotations

import re
from datetime import date

from langchain_core.documents import Document

from bot.answering.citations import Citation

MAX_EARLIER = 2
RELEVANCE = 0.8  # the older sentence's similarity to the question, at least this share of the quote's
_FIGURE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(%)|\s+([a-z]{3,}))", re.I)
_NOT_UNITS = {"and", "the", "for", "from", "with", "that", "this", "were", "was", "are", "have",
              "has", "had", "more", "than", "over", "about", "into", "after", "before", "since",
              "per", "each", "other", "new", "of", "in", "to", "on", "at", "by", "or", "but"}


def figures(sentence: str) -> dict[str, str]:
    """{unit: number} for 'number unit' pairs ('28,000 troops' -> {'troop': '28,000'}); years and
    bare numbers are skipped."""
    found: dict[str, str] = {}
    for match in _FIGURE.finditer(sentence):
        number, percent, word = match.group(1), match.group(2), (match.group(3) or "").lower()
        unit = "percent" if percent or word in ("percent", "pct") else word.rstrip("s")
        if not unit or word in _NOT_UNITS or _is_year(number):
            continue
        found.setdefault(unit, number)
    return found


def earlier_figures(citations: list[Citation], docs: list[Document]) -> list[str]:
    """'28,000 troops, 12 Oct 2025 (Reuters)' for each older report with another figure."""
    if not citations:
        return []
    first = citations[0]
    newest, wanted = _iso(first.date), figures(first.quote)
    quote_score = _score_of(first, docs)
    if newest is None or not wanted or quote_score is None:
        return []
    lead_story = next((d.metadata.get("story") for d in docs
                       if d.metadata.get("article_id") == first.article_id), None)
    notes: list[str] = []
    seen: set[str] = {first.article_id}
    for doc in docs:
        meta = doc.metadata
        day = _iso(meta.get("date", ""))
        if meta.get("article_id") in seen or day is None or day >= newest or \
                (lead_story and meta.get("story") == lead_story):
            continue
        seen.add(meta.get("article_id"))
        note = _different(wanted, _best(doc), quote_score, day, meta.get("source") or "outlet unknown")
        if note:
            notes.append(note)
    return notes[:MAX_EARLIER]


def _different(wanted: dict[str, str], best: dict | None, quote_score: float, day: date,
               outlet: str) -> str | None:
    if best is None or best["score"] < RELEVANCE * quote_score:
        return None
    for unit, number in figures(best["text"]).items():
        if unit in wanted and number != wanted[unit]:
            shown = f"{number}%" if unit == "percent" else f"{number} {_word(best['text'], number)}"
            return f"{shown}, {day.day} {day:%b %Y} ({outlet})"
    return None


def _word(sentence: str, number: str) -> str:
    match = re.search(re.escape(number) + r"\s+([A-Za-z]+)", sentence)
    return match.group(1) if match else ""


def _best(doc: Document) -> dict | None:
    sentences = doc.metadata.get("sentences") or []
    return max(sentences, key=lambda s: s["score"]) if sentences else None


def _score_of(citation: Citation, docs: list[Document]) -> float | None:
    for doc in docs:
        if doc.metadata.get("article_id") == citation.article_id:
            for s in doc.metadata.get("sentences") or []:
                if s["text"].strip() == citation.quote.strip():
                    return s["score"]
    return None


def _iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _is_year(number: str) -> bool:
    return number.isdigit() and len(number) == 4 and 1800 <= int(number) <= 2100
