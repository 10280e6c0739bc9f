"""The Chroma collections that hold the index: embedded on disk, or a Chroma server over HTTP.

Three collections per index name:
- ``<name>-v2``: chunks (text, citation metadata, vector). Each chunk id names the article's
  version: ``<article>@<version>#<n>``, so a new version is written beside the old one.
- ``<name>-v2-articles``: the manifest, one row per article. It is the commit record: a version is
  served only once its manifest row names it. Every commit stamps the rows with a sequence
  number, so a reader catches up with ``changes_since(seq)``; a deleted article stays as a
  tombstone row (live False) so readers learn of the deletion.
- ``<name>-v2-meta``: the sequence counter, the index's epoch, bookkeeping and the writer lease.

Replacing an article is crash-safe (see ``replace_articles``): a kill at any moment leaves the
old version served or the new one, never a mix, and the next writer's ``repair`` removes what
was left half-written. Vectors are always computed by us and passed in, so Chroma's own default
embedder (which would try to download a model) is never used.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from index import faults, manifest
from index.locking import IndexLock, LockError
from index.manifest import IndexedArticle, chunk_ids

DEFAULT_COLLECTION = "newsbot"
SCHEMA = "v2"
_PAGE = 5000
_WRITE_BATCH = 1000
_LEASE_S = 60.0
# Chroma checkpoints a collection's vector index to disk every sync_threshold rows written (1,000
# by default) and keeps the rows since only in its log. Once per Chroma process (a server, or an
# embedded client), the first write after its first read of the collection re-applies that log
# tail to the index, every query of the collection waiting meanwhile: 1.3 s for 999 upserted
# rows at 3,000 vectors, 1.3 s at 300,000 in `bench --scale`. A smaller threshold bounds the
# tail; at 200,000 vectors it also shortened the checkpoints' own pauses (README "Scale").
_SYNC_THRESHOLD = 200


class StoreError(Exception):
    """The index cannot be opened or used; the message says why, in one line."""


@dataclass
class Hit:
    """One chunk returned by a query, with its cosine similarity to the query."""

    id: str
    text: str
    metadata: dict
    score: float


def pack_vectors(vectors: np.ndarray) -> str:
    """Unit vectors as int8, base64: how a chunk's sentence vectors ride in its metadata."""
    return base64.b64encode(np.round(np.clip(vectors, -1, 1) * 127).astype(np.int8)).decode()


def unpack_vectors(packed: str, dim: int) -> np.ndarray:
    """The float32 vectors that pack_vectors stored (within 0.4 % of the originals)."""
    raw = np.frombuffer(base64.b64decode(packed), dtype=np.int8)
    return raw.reshape(-1, dim).astype(np.float32) / 127.0


class ChunkStore:
    """The index's collections, and the only code that writes or reads them."""

    def __init__(self, client: object, name: str = DEFAULT_COLLECTION, where: str = "",
                 lock: IndexLock | None = None) -> None:
        self.client = client
        self.name = name
        self.where = where
        self.lock = lock
        self.collection = self._open(f"{name}-{SCHEMA}")
        self.manifest = self._open(f"{name}-{SCHEMA}-articles")
        self.meta = self._open(f"{name}-{SCHEMA}-meta")
        self._seq: int | None = None
        self._lease_owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _open(self, name: str) -> object:
        try:
            return self.client.get_or_create_collection(
                name, embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "sync_threshold": _SYNC_THRESHOLD}})
        except Exception as exc:  # chromadb raises many types; the edge needs one
            raise StoreError(f"cannot open collection {name!r} at {self.where}: {short_error(exc)}") from exc

    def close(self) -> None:
        """Let go of the index: other processes may write an embedded one once all of this
        process's stores on it are closed. The store is not usable afterwards."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None
            close = getattr(self.client, "close", None)
            if close is not None:
                close()  # drops the client's cached view, which another writer would make stale

    # ----- reading -----

    def count(self) -> int:
        """Number of chunk rows stored (every version present)."""
        return self.collection.count()

    def articles(self) -> dict[str, IndexedArticle]:
        """Every live article's manifest row."""
        return {a.article_id: a for a in self._rows(where={"live": True})}

    def articles_of(self, article_ids: Sequence[str]) -> dict[str, IndexedArticle]:
        """The live manifest rows of these articles (a writer of a few articles reads only theirs)."""
        found: dict[str, IndexedArticle] = {}
        ids = list(dict.fromkeys(article_ids))
        for start in range(0, len(ids), _PAGE):
            res = self.manifest.get(ids=ids[start:start + _PAGE], include=["metadatas"])
            rows = (manifest.row(i, m) for i, m in zip(res["ids"], res["metadatas"]))
            found.update((row.article_id, row) for row in rows if row.live)
        return found

    def changes_since(self, seq: int, upto: int) -> list[IndexedArticle]:
        """Manifest rows committed after seq up to upto (tombstones included), oldest first.

        A window of sequence numbers, not an offset, selects the rows: a row that a concurrent
        commit moves past upto leaves the window whole, and is read again by the next call.
        """
        res = self.manifest.get(where={"$and": [{"seq": {"$gt": seq}}, {"seq": {"$lte": upto}}]},
                                include=["metadatas"])
        return sorted((manifest.row(i, m) for i, m in zip(res["ids"], res["metadatas"])),
                      key=lambda r: r.seq)

    def current_seq(self) -> int:
        """The newest sequence number whose rows are all written (readers read up to it)."""
        return int(self._meta_row("seq").get("value", 0))

    def epoch(self) -> str:
        """A random id fixed when the index was created: caches of another index don't apply."""
        found = self._meta_row("epoch").get("value")
        if found:
            return found
        value = uuid.uuid4().hex
        self._put_meta("epoch", {"value": value})
        return value

    def get_chunks(self, ids: Sequence[str], *, with_metadata: bool = True) -> dict[str, tuple]:
        """{id: (text, metadata)} of the chunks that exist, whatever their version."""
        if not ids:
            return {}
        include = ["documents", "metadatas"] if with_metadata else ["documents"]
        res = self.collection.get(ids=list(ids), include=include)
        metas = res.get("metadatas") or [{}] * len(res["ids"])
        return {i: (d, m) for i, d, m in zip(res["ids"], res["documents"], metas)}

    def current_chunks(self, ids: Sequence[str]) -> dict[str, tuple[str, dict]]:
        """Like get_chunks, but only chunks of the version each article's manifest row names.

        Checked per call, so a reader never serves a replaced version or two versions at once.
        An id of a version replaced since the search (a reader's keyword index lags a commit by
        up to its sync interval) gets the live version's chunk at the same place (or its last),
        so an edited article is never missing between its two versions.
        """
        named = {cid: manifest.chunk_place(cid) for cid in ids}
        articles = {article for article, _, _ in named.values()}
        if not articles:
            return {}
        found = self.get_chunks(ids)
        res = self.manifest.get(ids=list(articles), include=["metadatas"])
        live = {i: m for i, m in zip(res["ids"], res["metadatas"]) if m.get("live")}
        current, stand_ins = {}, {}
        for cid, (article, version, place) in named.items():
            now = live.get(article)
            if now is None:
                continue  # deleted, or never committed
            if now.get("version") == version:
                if cid in found:
                    current[cid] = found[cid]
            elif now.get("n_chunks", 0) > 0:
                place = min(place, now["n_chunks"] - 1)
                stand_ins[cid] = chunk_ids(article, now["version"], place + 1)[-1]
        # one stand-in per live chunk, and none for a chunk the search found itself
        stand_ins = {new: cid for cid, new in reversed(stand_ins.items()) if new not in named}
        fresh = self.get_chunks(list(stand_ins)) if stand_ins else {}
        current |= {cid: fresh[new] for new, cid in stand_ins.items() if new in fresh}
        return current

    def query_ids(self, embedding: Sequence[float], k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the k nearest chunk rows; k must not exceed count()."""
        if k <= 0:
            return []
        res = self.collection.query(query_embeddings=[embedding], n_results=k,
                                    include=["distances"])
        return [(i, 1.0 - dist) for i, dist in zip(res["ids"][0], res["distances"][0])]

    def query(self, embedding: Sequence[float], k: int) -> list[Hit]:
        """The k chunk rows nearest to a query vector, best first (the baseline's raw search)."""
        n = min(k, self.count())
        if n == 0:
            return []
        res = self.collection.query(query_embeddings=[embedding], n_results=n,
                                    include=["documents", "metadatas", "distances"])
        return [Hit(i, d, m, 1.0 - dist) for i, d, m, dist in
                zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])]

    def info(self) -> dict:
        """Bookkeeping kept beside the index (last ingest and the like)."""
        raw = self._meta_row("info").get("json")
        return json.loads(raw) if raw else {}

    # ----- writing -----

    def claim_writer(self, *, hold: bool = False) -> None:
        """Become the index's one writer, or raise StoreError naming the one there is.

        Embedded: the exclusive file lock (hold keeps it after the write, for --watch). Server: a
        lease row that expires unless renewed, so a killed writer does not block the next.
        """
        if self.lock is not None:
            try:
                self.lock.exclusive()
            except LockError as exc:
                raise StoreError(str(exc)) from exc
            self.lock.hold_exclusive = self.lock.hold_exclusive or hold
        else:
            lease = self._meta_row("writer")
            held = lease.get("until", 0) > time.time()
            if lease.get("owner") not in (None, self._lease_owner) and held:
                raise StoreError(f"the index at {self.where} has a writer already "
                                 f"({lease['owner']}); run one `newsbot index`/`watch` per index, "
                                 "or wait a minute if it was killed")
            self.renew_lease()
        self._checkpoint_often()

    def _checkpoint_often(self) -> None:
        """Give collections made before _SYNC_THRESHOLD was set (Chroma's default, 1,000) the
        shorter checkpoint interval. Chroma applies it when it next loads the index (a server
        restart; embedded: the next process to open it)."""
        for col in (self.collection, self.manifest, self.meta):
            hnsw = (col.configuration_json or {}).get("hnsw") or {}
            if hnsw.get("sync_threshold", _SYNC_THRESHOLD) != _SYNC_THRESHOLD:
                col.modify(configuration={"hnsw": {"sync_threshold": _SYNC_THRESHOLD}})

    def renew_lease(self) -> None:
        """Extend the writer lease (server mode; a no-op for the embedded file lock)."""
        if self.lock is None:
            self._put_meta("writer", {"owner": self._lease_owner, "until": time.time() + _LEASE_S})

    def _fence(self) -> None:
        """Before a write (server mode): stop, with one line, a writer whose lease another has
        taken while it stalled past it (a pause, an overloaded machine, a batch slower than the
        lease); else renew the lease. Two writers are then never both writing for longer than
        one batch."""
        if self.lock is not None:
            return
        lease = self._meta_row("writer")
        owner = lease.get("owner")
        if owner not in (None, self._lease_owner) and lease.get("until", 0) > time.time():
            raise StoreError(f"another writer ({owner}) took over the index at {self.where} "
                             "while this one was stalled; this one stops (run one "
                             "`newsbot index`/`watch` per index)")
        self.renew_lease()

    def release_writer(self) -> None:
        """Stop being the writer (the lease row goes; the file lock steps down to reading)."""
        if self.lock is not None:
            self.lock.release_exclusive()
        elif self._meta_row("writer").get("owner") == self._lease_owner:
            self.meta.delete(ids=["writer"])

    def repair(self) -> int:
        """Finish or undo writes a crash left behind; returns how many articles needed it."""
        reserved = int(self._meta_row("reserved").get("value", 0))
        if reserved > self.current_seq():
            self._publish(reserved)
        dirty = self._rows(where={"$or": [{"pending": {"$ne": ""}}, {"stale": {"$ne": ""}}]})
        for row in dirty:
            self._delete_chunks(manifest.leftovers(row))
            if row.live or row.seq:
                self._put_rows([replace(row, pending="", pending_chunks=0, stale="", stale_chunks=0)])
            else:
                self.manifest.delete(ids=[row.article_id])  # a new article never committed
        return len(dirty)

    def replace_articles(self, new: list[IndexedArticle], ids: list[str], texts: list[str],
                         metadatas: list[dict], embeddings: np.ndarray) -> None:
        """Write new versions of articles so that a kill at any point loses nothing served.

        1. mark the new versions pending; 2. write their chunks; 3. commit the manifest rows
        (now they are served); 4. delete the old versions' chunks; 5. clear the marks.
        """
        self._fence()
        res = self.manifest.get(ids=[a.article_id for a in new], include=["metadatas"])
        old = {i: manifest.row(i, m) for i, m in zip(res["ids"], res["metadatas"])}
        self._put_rows([manifest.pending(a, old.get(a.article_id)) for a in new])
        faults.point("after-pending")
        # Added, not upserted: a version's chunk ids are new (the version is a hash of the
        # article, and repair deleted what a killed writer left of it), and Chroma re-applies a
        # log tail of added rows far faster than one of upserted rows (see _SYNC_THRESHOLD).
        self._write_chunks(self.collection.add, ids, texts, metadatas, embeddings)
        seq = self._next_seq()
        committed = [manifest.committed(a, old.get(a.article_id), seq) for a in new]
        self._put_rows(committed)
        faults.point("after-commit")
        self._publish(seq)
        self._finish(committed)

    def remove_articles(self, gone: list[IndexedArticle]) -> None:
        """Delete articles: a tombstone commit (readers learn of it), then their chunks."""
        self._fence()
        seq = self._next_seq()
        tombstones = [replace(a, live=False, version="", n_chunks=0, seq=seq, stale=a.version,
                              stale_chunks=a.n_chunks) for a in gone]
        self._put_rows(tombstones)
        faults.point("after-tombstone")
        self._publish(seq)
        self._finish(tombstones)

    def update_chunk_metadata(self, ids: list[str], values: dict | list[dict]) -> None:
        """Merge values (one dict for all, or one per id) into these chunks' metadata (text and
        vectors stay as they are)."""
        each = values if isinstance(values, list) else [values] * len(ids)
        for i in range(0, len(ids), _WRITE_BATCH):
            self.collection.update(ids=ids[i:i + _WRITE_BATCH],
                                   metadatas=each[i:i + _WRITE_BATCH])

    def set_info(self, info: dict) -> None:
        """Replace the bookkeeping record."""
        self._put_meta("info", {"json": json.dumps(info)})

    def upsert(self, ids: list[str], texts: list[str], metadatas: list[dict],
               embeddings: Sequence) -> None:
        """Chunk rows by id, in batches Chroma accepts; no manifest row (replace_articles writes
        those; the baseline's own collection uses this alone)."""
        self._write_chunks(self.collection.upsert, ids, texts, metadatas, embeddings)

    # ----- internals -----

    def _write_chunks(self, write: Callable, ids: list[str], texts: list[str],
                      metadatas: list[dict], embeddings: Sequence) -> None:
        for i in range(0, len(ids), _WRITE_BATCH):
            sl = slice(i, i + _WRITE_BATCH)
            write(ids=ids[sl], documents=texts[sl], metadatas=metadatas[sl],
                  embeddings=embeddings[sl])
            faults.point("between-chunk-batches")

    def _finish(self, rows: list[IndexedArticle]) -> None:
        for row in rows:
            self._delete_chunks(manifest.leftovers(row))
        faults.point("after-delete")
        self._put_rows([replace(r, pending="", pending_chunks=0, stale="", stale_chunks=0)
                        for r in rows if r.dirty])

    def _next_seq(self) -> int:
        # Reserved before the rows that carry it are written, published after: a kill in between
        # leaves rows past the published number, which the next writer publishes (repair).
        if self._seq is None:
            self._seq = max(self.current_seq(), int(self._meta_row("reserved").get("value", 0)))
        self._seq += 1
        self._put_meta("reserved", {"value": self._seq})
        self._fence()
        return self._seq

    def _publish(self, seq: int) -> None:
        self._put_meta("seq", {"value": seq})

    def _rows(self, where: dict) -> list[IndexedArticle]:
        rows, offset = [], 0
        while True:
            res = self.manifest.get(where=where, include=["metadatas"], limit=_PAGE, offset=offset)
            if not res["ids"]:
                return rows
            rows += [manifest.row(i, m) for i, m in zip(res["ids"], res["metadatas"])]
            offset += len(res["ids"])

    def _put_rows(self, rows: list[IndexedArticle]) -> None:
        for i in range(0, len(rows), _WRITE_BATCH):
            batch = rows[i:i + _WRITE_BATCH]
            self.manifest.upsert(ids=[r.article_id for r in batch],
                                 metadatas=[manifest.row_meta(r) for r in batch],
                                 embeddings=[key_point(r.article_id) for r in batch])

    def _delete_chunks(self, ids: list[str]) -> None:
        for i in range(0, len(ids), _WRITE_BATCH):
            self.collection.delete(ids=ids[i:i + _WRITE_BATCH])

    def _meta_row(self, key: str) -> dict:
        res = self.meta.get(ids=[key], include=["metadatas"])
        return (res["metadatas"] or [{}])[0] or {}

    def _put_meta(self, key: str, values: dict) -> None:
        self.meta.upsert(ids=[key], metadatas=[values], embeddings=[key_point(key)])


def key_point(key: str) -> list[float]:
    """A 2-d unit vector from a key: rows nobody searches by vector still need one, and distinct
    points keep Chroma's graph index from degenerating as identical vectors would."""
    angle = zlib.crc32(key.encode()) / 2**32 * 2 * np.pi
    return [float(np.cos(angle)), float(np.sin(angle))]


def now_iso() -> str:
    """The current UTC time, to the second, for bookkeeping."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def short_error(exc: Exception, secret: str | None = None) -> str:
    """The first line of an error, without secret; its type when that line is markup (a
    proxy's HTML error page) or empty."""
    text = (str(exc).strip().splitlines() or [""])[0][:200]
    if not text or text.startswith("<"):
        text = type(exc).__name__
    return text.replace(secret, "***") if secret else text
