"""What the index holds: counts, dates covered, last ingest, location."""

from __future__ import annotations

import re

from index.keyword import KeywordIndex
from index.store import ChunkStore

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def index_status(store: ChunkStore, keyword: KeywordIndex | None = None) -> dict:
    """Articles, chunks, date range, last ingest, where the index lives, and how far this
    host's keyword index has caught up with the store (commits not yet applied: behind)."""
    articles = store.articles()
    dates = sorted(a.date for a in articles.values() if _ISO_DATE.match(a.date or ""))
    return {
        "articles": len(articles),
        "chunks": sum(a.n_chunks for a in articles.values()),
        "undated_articles": sum(1 for a in articles.values() if not _ISO_DATE.match(a.date or "")),
        "date_from": dates[0] if dates else None,
        "date_to": dates[-1] if dates else None,
        "last_ingest": store.info().get("last_ingest"),
        "location": store.where,
        "collection": store.name,
        "store_seq": store.current_seq(),
        "keyword_seq": keyword.synced_seq if keyword is not None else None,
        "keyword_behind": keyword.lag(store) if keyword is not None else None,
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
    if status["keyword_behind"] is not None:
        behind = status["keyword_behind"]
        rows.append(("keywords", "up to date" if not behind else
                     f"{behind} commits behind the store (caught up by the next question, or by "
                     "a running bot within a few s)"))
    return "\n".join(f"{name:<12} {value}" for name, value in rows)
