"""The manifest's rows: one per article, naming the version that is served and what a crash may
have left half-written (see ``ChunkStore.replace_articles``), and the chunk ids of a version."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class IndexedArticle:
    """One manifest row: the article's committed version and what a crash may have left behind."""

    article_id: str
    content_hash: str
    origin: str
    version: str = ""
    n_chunks: int = 0
    date: str = ""
    n_sentences: int = 0
    seq: int = 0
    live: bool = True
    pending: str = ""        # a version being written: its chunks may exist, unserved
    pending_chunks: int = 0
    stale: str = ""          # a replaced version whose chunks may not all be deleted yet
    stale_chunks: int = 0

    @property
    def chunk_ids(self) -> list[str]:
        """The ids of the committed version's chunks."""
        return chunk_ids(self.article_id, self.version, self.n_chunks) if self.live else []

    @property
    def dirty(self) -> bool:
        """Whether a write of this article was left unfinished."""
        return bool(self.pending or self.stale)


def chunk_ids(article_id: str, version: str, n: int) -> list[str]:
    """The ids of one version of an article's chunks."""
    return [f"{article_id}@{version}#{i}" for i in range(n)]


def chunk_place(chunk_id: str) -> tuple[str, str, int]:
    """(article id, version, place) of a chunk id "<article>@<version>#<n>"."""
    rest, _, place = chunk_id.rpartition("#")
    article, _, version = rest.rpartition("@")
    return article, version, int(place) if place.isdigit() else 0


def pending(new: IndexedArticle, old: IndexedArticle | None) -> IndexedArticle:
    # A tombstone keeps its seq while pending, so readers that missed the deletion still see it.
    base = old or IndexedArticle(new.article_id, "", new.origin, live=False)
    return replace(base, pending=new.version, pending_chunks=new.n_chunks)


def committed(new: IndexedArticle, old: IndexedArticle | None, seq: int) -> IndexedArticle:
    replaced = old is not None and old.live and old.version != new.version
    return replace(new, seq=seq, live=True, pending="", pending_chunks=0,
                   stale=old.version if replaced else "", stale_chunks=old.n_chunks if replaced else 0)


def leftovers(row: IndexedArticle) -> list[str]:
    """Chunk ids of versions a row no longer serves."""
    ids = []
    if row.pending and row.pending != row.version:
        ids += chunk_ids(row.article_id, row.pending, row.pending_chunks)
    if row.stale and row.stale != row.version:
        ids += chunk_ids(row.article_id, row.stale, row.stale_chunks)
    return ids


def row(article_id: str, meta: dict) -> IndexedArticle:
    return IndexedArticle(
        article_id, meta.get("article_hash", ""), meta.get("origin", ""), meta.get("version", ""),
        meta.get("n_chunks", 0), meta.get("date", ""), meta.get("n_sentences", 0),
        meta.get("seq", 0), meta.get("live", False), meta.get("pending", ""),
        meta.get("pending_chunks", 0), meta.get("stale", ""), meta.get("stale_chunks", 0))


def row_meta(r: IndexedArticle) -> dict:
    return {"article_hash": r.content_hash, "origin": r.origin, "version": r.version,
            "n_chunks": r.n_chunks, "date": r.date, "n_sentences": r.n_sentences, "seq": r.seq,
            "live": r.live, "pending": r.pending, "pending_chunks": r.pending_chunks,
            "stale": r.stale, "stale_chunks": r.stale_chunks}
