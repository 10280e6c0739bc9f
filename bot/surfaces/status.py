"""What the index holds: counts, dates covered, last ingest, location."""

from __future__ import annotations

import re

from index.store import ChunkStore

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def index_status(store: ChunkStore) -> dict:
    """Articles, chunks, date range, last ingest and where the index lives."""
    articles = store.articles()
    dates = sorted(a.date for a in articles.values() if _ISO_DATE.match(a.date or ""))
    return {
        "articles": len(articles),
        "chunks": store.count(),
        "undated_articles": sum(1 for a in articles.values() if not _ISO_DATE.match(a.date or "")),
        "date_from": dates[0] if dates else None,
        "date_to": dates[-1] if dates else None,
        "last_ingest": store.info().get("last_ingest"),
        "location": store.where,
        "collection": store.name,
    }


def status_text(status: dict) -> str:
    """The status as a few aligned lines."""
    covered = (f"{status['date_from']} to {status['date_to']}" if status["date_from"]
               else "no dated articles")
    if status["undated_articles"]:
        covered += f" ({status['undated_articles']} undated)"
    rows = [("articles", status["articles"]), ("chunks", status["chunks"]), ("dates", covered),
            ("last ingest", status["last_ingest"] or "never"),
            ("index", f"{status['location']} (collection {status['collection']})")]
    return "\n".join(f"{name:<12} {value}" for name, value in rows)
