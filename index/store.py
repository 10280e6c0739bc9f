"""The Chroma collection that holds chunks: embedded on disk, or a Chroma server over HTTP.

Vectors are always computed by us and passed in, so Chroma's own default embedder (which would
try to download a model) is never used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_COLLECTION = "newsbot"
_PAGE = 5000
_WRITE_BATCH = 1000
_UNIT = [1.0] + [0.0] * 383


class StoreError(Exception):
    """The index cannot be opened or used; the message says why, in one line."""


@dataclass
class IndexedArticle:
    """What the index knows about one article, gathered from its chunks' metadata."""

    article_id: str
    content_hash: str
    origin: str
    chunk_ids: list[str] = field(default_factory=list)
    date: str = ""
    n_sentences: int = 0


@dataclass
class Hit:
    """One chunk returned by a query, with its cosine similarity to the query."""

    id: str
    text: str
    metadata: dict
    score: float


class ChunkStore:
    """Two Chroma collections: chunks (text, citation metadata, vectors) and sentence vectors.

    Sentence vectors let the answer step score single sentences against the question without
    embedding anything at question time.
    """

    def __init__(self, client: object, name: str = DEFAULT_COLLECTION, where: str = "") -> None:
        self.client = client
        self.name = name
        self.where = where
        self.collection = self._open(name)
        self.sentences = self._open(f"{name}-sentences")
        # One row per article (hash, origin, chunk and sentence counts): re-indexing reads these
        # instead of every chunk's metadata. Nothing searches it, so every row has the same vector.
        self.manifest = self._open(f"{name}-articles")

    def _open(self, name: str) -> object:
        try:
            return self.client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:  # chromadb raises many types; the edge needs one
            raise StoreError(f"cannot open collection {name!r} at {self.where}: {_short(exc)}") from exc

    def count(self) -> int:
        """Number of chunks stored."""
        return self.collection.count()

    def articles(self) -> dict[str, IndexedArticle]:
        """Every indexed article with its hash, origin, chunk ids and sentence count."""
        if self.manifest.count() == 0 and self.collection.count() > 0:
            self.record_articles(self._scan_articles())  # an index from before the manifest
        found: dict[str, IndexedArticle] = {}
        offset = 0
        while True:
            res = self.manifest.get(include=["metadatas"], limit=_PAGE, offset=offset)
            if not res["ids"]:
                return found
            for article_id, meta in zip(res["ids"], res["metadatas"]):
                found[article_id] = IndexedArticle(
                    article_id, meta["article_hash"], meta["origin"],
                    [f"{article_id}#{i}" for i in range(meta["n_chunks"])], meta.get("date", ""),
                    meta["n_sentences"])
            offset += len(res["ids"])

    def record_articles(self, articles: list[IndexedArticle]) -> None:
        """Write (or replace) the manifest rows of these articles."""
        for i in range(0, len(articles), _WRITE_BATCH):
            batch = articles[i:i + _WRITE_BATCH]
            self.manifest.upsert(
                ids=[a.article_id for a in batch],
                metadatas=[{"article_hash": a.content_hash, "origin": a.origin, "date": a.date,
                            "n_chunks": len(a.chunk_ids), "n_sentences": a.n_sentences}
                           for a in batch],
                embeddings=[_UNIT] * len(batch))

    def _scan_articles(self) -> list[IndexedArticle]:
        """Articles gathered from every chunk's metadata (slow: for old indexes only)."""
        found: dict[str, IndexedArticle] = {}
        for ids, metas, _ in self._pages(include=["metadatas"]):
            for chunk_id, meta in zip(ids, metas):
                art = found.get(meta["article_id"])
                if art is None:
                    art = found[meta["article_id"]] = IndexedArticle(
                        meta["article_id"], meta.get("article_hash", ""), meta.get("origin", ""),
                        date=meta.get("date", ""), n_sentences=meta.get("n_sentences", 0))
                art.chunk_ids.append(chunk_id)
        return list(found.values())

    def all_chunks(self) -> list[tuple[str, str, dict]]:
        """(id, text, metadata) of every chunk, for the keyword index."""
        rows: list[tuple[str, str, dict]] = []
        for ids, metas, docs in self._pages(include=["metadatas", "documents"]):
            rows.extend(zip(ids, docs, metas))
        return rows

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict],
               embeddings: Sequence) -> None:
        """Insert or replace chunks by id, in batches Chroma accepts."""
        for i in range(0, len(ids), _WRITE_BATCH):
            sl = slice(i, i + _WRITE_BATCH)
            self.collection.upsert(ids=ids[sl], documents=texts[sl], metadatas=metadatas[sl],
                                   embeddings=embeddings[sl])

    def upsert_sentences(self, ids: list[str], metadatas: list[dict], embeddings: Sequence) -> None:
        """Insert or replace sentence vectors by id."""
        for i in range(0, len(ids), _WRITE_BATCH):
            sl = slice(i, i + _WRITE_BATCH)
            self.sentences.upsert(ids=ids[sl], metadatas=metadatas[sl], embeddings=embeddings[sl])

    def delete(self, ids: list[str], sentence_ids: list[str] = (),
               article_ids: list[str] = ()) -> None:
        """Remove chunks, sentence vectors and manifest rows by id."""
        for collection, todo in ((self.collection, list(ids)), (self.sentences, list(sentence_ids)),
                                 (self.manifest, list(article_ids))):
            for i in range(0, len(todo), _WRITE_BATCH):
                collection.delete(ids=todo[i:i + _WRITE_BATCH])

    def sentence_vectors(self, ids: list[str]) -> dict[str, tuple[dict, list[float]]]:
        """Stored (metadata, vector) of sentences by id; ids that are missing are left out."""
        if not ids:
            return {}
        res = self.sentences.get(ids=ids, include=["metadatas", "embeddings"])
        return {i: (m, v) for i, m, v in zip(res["ids"], res["metadatas"], res["embeddings"])}

    def query(self, embedding: Sequence[float], k: int) -> list[Hit]:
        """The k chunks nearest to a query vector, best first."""
        n = min(k, self.count())
        if n == 0:
            return []
        res = self.collection.query(query_embeddings=[embedding], n_results=n,
                                    include=["documents", "metadatas", "distances"])
        return [Hit(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

    def query_ids(self, embedding: Sequence[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunks; k must not exceed count()."""
        if k <= 0:
            return []
        res = self.collection.query(query_embeddings=[embedding], n_results=k,
                                    include=["distances"])
        return [(i, 1.0 - dist) for i, dist in zip(res["ids"][0], res["distances"][0])]

    def info(self) -> dict:
        """Bookkeeping kept beside the collection (last ingest and the like)."""
        raw = (self.collection.metadata or {}).get("newsbot_info")
        return json.loads(raw) if raw else {}

    def set_info(self, info: dict) -> None:
        """Replace the bookkeeping record."""
        self.collection.modify(metadata={"newsbot_info": json.dumps(info)})

    def _pages(self, include: list[str]):
        offset = 0
        while True:
            res = self.collection.get(include=include, limit=_PAGE, offset=offset)
            if not res["ids"]:
                return
            yield res["ids"], res.get("metadatas") or [], res.get("documents") or []
            offset += len(res["ids"])


def open_store(home: Path, chroma_url: str | None = None,
               name: str = DEFAULT_COLLECTION) -> ChunkStore:
    """Open the chunk store: a Chroma server when chroma_url is set, else a folder under home."""
    import chromadb  # imported here: it is slow, and not every command needs it
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if chroma_url:
        parsed = urlparse(chroma_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(f"NEWSBOT_CHROMA_URL must look like http://host:port, got {chroma_url!r}")
        try:
            client = chromadb.HttpClient(host=parsed.hostname, port=parsed.port or 8000,
                                         ssl=parsed.scheme == "https", settings=settings)
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server at {chroma_url}: {_short(exc)}") from exc
        return ChunkStore(client, name, chroma_url)
    path = home / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        raise StoreError(f"cannot open the index at {path}: {_short(exc)}") from exc
    return ChunkStore(client, name, str(path))


def now_iso() -> str:
    """The current UTC time, to the second, for bookkeeping."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _short(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
