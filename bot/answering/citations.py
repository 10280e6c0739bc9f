"""Citation plumbing: [n] markers, renumbering, one citation per article, supporting quotes."""

from __future__ import annotations

import re
from datetime import date

from langchain_core.documents import Document
from pydantic import BaseModel, Field

from index.articles import UNKNOWN_DATE

MARKER = re.compile(r"\[(\d{1,3})\]")
_FENCE_TAG = re.compile(r"</?\s*sources?\b", re.I)


class Citation(BaseModel):
    """One numbered source of an answer, with the exact sentences of it that the answer quotes:
    `quote` is the first (the one holding the short answer), `quotes` all of them."""

    n: int
    article_id: str
    title: str
    source: str
    date: str
    location: str
    quote: str
    quotes: list[str] = Field(default_factory=list)
    also: list[str] = Field(default_factory=list)  # other outlets that carried the same story


def markers(text: str) -> list[int]:
    """The [n] numbers in text, in order of first appearance, without repeats."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        n = int(match.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def best_sentence(doc: Document) -> str:
    """The chunk sentence most similar to the question, or the chunk's first line."""
    sentences = doc.metadata.get("sentences") or []
    if sentences:
        return max(sentences, key=lambda s: s["score"])["text"]
    return doc.page_content.split("\n", 1)[0]


def assemble(text: str, docs: list[Document],
             quotes: dict[int, list[str]]) -> tuple[str, list[Citation]]:
    """Renumber [n] (1-based positions in docs) as 1..m by first use; one citation per article,
    holding the quoted sentences of all its chunks (quotes), in the order the text cites them.

    Markers that point outside docs are dropped: a citation must name a retrieved chunk.
    """
    renumber: dict[int, int] = {}
    by_article: dict[str, int] = {}
    citations: list[Citation] = []
    for n in markers(text):
        if not 1 <= n <= len(docs):
            continue
        meta = docs[n - 1].metadata
        said = quotes.get(n) or [best_sentence(docs[n - 1])]
        new = by_article.get(meta["article_id"])
        if new is None:
            new = by_article[meta["article_id"]] = len(citations) + 1
            citations.append(Citation(
                n=new, article_id=meta["article_id"], title=meta.get("title", ""),
                source=meta.get("source", ""), date=meta.get("date") or UNKNOWN_DATE,
                location=meta.get("location") or meta.get("url") or meta.get("origin", ""),
                quote=said[0], quotes=list(dict.fromkeys(said)), also=also_outlets(meta)))
        else:
            held = citations[new - 1].quotes
            held.extend(q for q in dict.fromkeys(said) if q not in held)
        renumber[n] = new

    def _swap(match: re.Match) -> str:
        new = renumber.get(int(match.group(1)))
        return f"[{new}]" if new else ""

    merged = MARKER.sub(_swap, text)
    merged = re.sub(r"(\[\d+\])(\s*\1)+", r"\1", merged)  # "[1] [1]" after merging articles
    return re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", merged)).strip(), citations


def also_outlets(meta: dict) -> list[str]:
    """The story's other outlets ("story_outlets" is "Lead Outlet, Reuters, CNN"), quoted one out."""
    quoted = (meta.get("source") or "").strip().lower()
    outlets = [o.strip() for o in (meta.get("story_outlets") or "").split(",")]
    return [o for o in dict.fromkeys(outlets) if o and o.lower() != quoted]


def as_of_line(c: Citation) -> str:
    """'As of 3 Nov 2025 (Reuters)', or 'Date unknown (Reuters)' for an undated source."""
    outlet = c.source or "outlet unknown"
    try:
        day = date.fromisoformat(c.date)
    except ValueError:
        return f"Date unknown ({outlet})"
    return f"As of {day.day} {day:%b %Y} ({outlet})"


def number_sources(docs: list[Document]) -> str:
    """The retrieved chunks for prompts, each fenced: <source n="1" outlet=".." date=".." ...>."""
    parts = []
    for n, doc in enumerate(docs, start=1):
        meta = doc.metadata
        outlet = _attribute(meta.get("source") or "outlet unknown")
        date = _attribute(meta.get("date") or UNKNOWN_DATE)
        parts.append(f'<source n="{n}" outlet="{outlet}" date="{date}" '
                     f'title="{_attribute(meta.get("title", ""))}">\n'
                     f"{defang(doc.page_content)}\n</source>")
    return "\n\n".join(parts)


def defang(text: str) -> str:
    """Article text that cannot close or open a source fence: "</source>" loses its "<"."""
    return _FENCE_TAG.sub(lambda m: "‹" + m.group()[1:], text)


def _attribute(value: str) -> str:
    return defang(" ".join(str(value).split())).replace('"', "'")
