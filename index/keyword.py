"""The keyword (BM25) side of retrieval: a tantivy index on disk, kept current from the store.

Chroma is the source of truth; this is a cache of it. Each process that answers questions opens
the cache folder for its store and catches up with the manifest's commits since the sequence
number the cache was last synced to, so a restart costs only what changed, and adding one article
costs a few milliseconds instead of a rebuild. Several processes may share one folder: the one
that holds tantivy's writer lock applies changes, the others reload what it committed.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path

from index.heap import release_free_memory
from index.locking import one_per_folder
from index.manifest import IndexedArticle
from index.store import ChunkStore, StoreError

log = logging.getLogger(__name__)
SYNC_STATE = "newsbot-sync.json"
_SEQ_WINDOW = 20      # commits applied per tantivy commit while catching up
_FETCH = 2000          # chunk texts fetched from the store per call while catching up
_HEAP = 64_000_000     # tantivy writer memory (its minimum per thread is 15 MB)
# Lucene's English stopwords (as bm25s used them) and the question words. Measured on the dev
# sets (answer accuracy / hit@5): a 170-word list lost RTQA 0.643 -> 0.602 / 0.959 -> 0.939;
# Lucene's alone lost SQuAD 0.817 -> 0.802; this keeps SQuAD and RTQA hit@5 (0.969).
STOPWORDS = ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
             "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then",
             "there", "these", "they", "this", "to", "was", "will", "with",
             "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did",
             "does", "do"]
# Words of two or more word characters, as bm25s and scikit-learn split them ("U.S." is no word).
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# Bump when the analyzer changes: a cache tokenized otherwise is rebuilt.
ANALYZER_VERSION = "3"


class KeywordWriteError(StoreError):
    """The keyword cache cannot be written (a full disk, a read-only or immutable folder)."""


def _write_problem(exc: Exception) -> str:
    """The OS's words in an error from tantivy's Rust (a debug dump) or from Python."""
    text = str(exc)
    found = re.search(r"No space left on device|Permission denied|Read-only file system|"
                      r"Disk quota exceeded|PermissionDenied|StorageFull", text)
    if found:
        return {"PermissionDenied": "Permission denied",
                "StorageFull": "No space left on device"}.get(found.group(), found.group())
    return getattr(exc, "strerror", None) or (text.splitlines() or [""])[0][:120]


class KeywordIndex:
    """BM25 over every served chunk's title and text, on disk under folder."""

    _open_here: dict[str, KeywordIndex] = {}

    @classmethod
    def open(cls, folder: Path) -> KeywordIndex:
        """The process's one KeywordIndex for folder (tantivy allows one writer per folder)."""
        return one_per_folder(cls._open_here, folder, cls)

    def __init__(self, folder: Path) -> None:
        import tantivy

        self._tantivy = tantivy
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._analyzer = (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(TOKEN_PATTERN))
                          .filter(tantivy.Filter.remove_long(40))
                          .filter(tantivy.Filter.lowercase())
                          .filter(tantivy.Filter.custom_stopword(STOPWORDS))
                          .filter(tantivy.Filter.stemmer("english")).build())
        self.schema = self._schema()
        self.index = self._open()
        self._writer = None
        self._lock = threading.Lock()
        self.synced_seq, self.epoch = self._read_state()

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best k chunks for the query's words."""
        terms = list(dict.fromkeys(self._analyzer.analyze(query)))
        if not terms or k <= 0:
            return []
        q = self._tantivy.Query.boolean_query(
            [(self._tantivy.Occur.Should, self._tantivy.Query.term_query(self.schema, "body", t))
             for t in terms])
        searcher = self.index.searcher()
        return [(searcher.doc(addr)["chunk_id"][0], score)
                for score, addr in searcher.search(q, k).hits]

    def num_docs(self) -> int:
        """How many chunks the index holds."""
        return self.index.searcher().num_docs

    def catch_up(self, store: ChunkStore) -> int:
        """Apply the store's commits since the last sync; returns how many articles changed.

        A process that cannot take the writer lock (another one syncs this folder) reloads
        instead. Commits are applied a window at a time, each window one tantivy commit.
        """
        with self._lock:
            try:
                return self._catch_up(store)
            except (OSError, ValueError) as exc:  # tantivy's I/O errors are ValueErrors
                raise KeywordWriteError(
                    f"the keyword index at {self.folder} cannot be written "
                    f"({_write_problem(exc)}); the articles are safe in the store: free space "
                    "or give write access there, or delete the folder to rebuild it") from exc

    def _catch_up(self, store: ChunkStore) -> int:
        epoch = f"{store.epoch()}.{ANALYZER_VERSION}"
        top = store.current_seq()
        if epoch != self.epoch or self.synced_seq > top:  # another store, or one restored
            self._reset(epoch)                            # from a backup older than the cache
        if not self._take_writer():
            self.index.reload()
            self.synced_seq, _ = self._read_state()
            return 0
        done = 0
        while self.synced_seq < top:
            upto = min(top, self.synced_seq + _SEQ_WINDOW)
            changes = store.changes_since(self.synced_seq, upto)
            self._apply(store, changes, upto)
            done += len(changes)
        return done

    def lag(self, store: ChunkStore) -> int:
        """Commits in the store that this index has not applied yet."""
        current = f"{store.epoch()}.{ANALYZER_VERSION}" == self.epoch
        return max(0, store.current_seq() - self.synced_seq) if current else store.current_seq()

    def close(self) -> None:
        """Release tantivy's writer lock so another process can sync this folder."""
        with self._lock:
            self._writer = None

    def _apply(self, store: ChunkStore, changes: list[IndexedArticle], upto: int) -> None:
        writer = self._writer
        wanted: list[str] = []
        for row in changes:
            writer.delete_documents_by_term("article_id", row.article_id)
            wanted += row.chunk_ids
        for i in range(0, len(wanted), _FETCH):
            rows = store.get_chunks(wanted[i:i + _FETCH])
            for chunk_id, (text, meta) in rows.items():
                writer.add_document(self._tantivy.Document(
                    chunk_id=chunk_id, article_id=meta["article_id"],
                    body=f"{meta.get('title', '')}\n{text}"))
        writer.commit()
        self.synced_seq = upto
        self._write_state()
        self.index.reload()
        # The window's fetched texts end up in reference cycles that Python's cyclic collector
        # reaches late in a big process: left to it, a catch-up after indexing 2,500 articles
        # grew 186 -> 429 MB. Collected and trimmed per window, it stays level.
        gc.collect()
        release_free_memory()

    def _take_writer(self) -> bool:
        if self._writer is None:
            try:
                self._writer = self.index.writer(heap_size=_HEAP, num_threads=1)
            except ValueError:  # LockBusy: another process syncs this folder
                return False
        return True

    def _reset(self, epoch: str) -> None:
        """Another index (or a rebuilt one) now lives at this store: start the cache over."""
        log.info("keyword index at %s belongs to another store; rebuilding", self.folder)
        if self._take_writer():
            self._writer.delete_all_documents()
            self._writer.commit()
        self.synced_seq, self.epoch = 0, epoch
        self._write_state()

    def _schema(self) -> object:
        builder = self._tantivy.SchemaBuilder()
        builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
        builder.add_text_field("article_id", stored=False, tokenizer_name="raw")
        builder.add_text_field("body", stored=False, tokenizer_name="news")
        return builder.build()

    def _open(self) -> object:
        try:
            index = self._tantivy.Index(self.schema, path=str(self.folder), reuse=True)
        except ValueError:  # a cache from another schema or a damaged one: it is only a cache
            shutil.rmtree(self.folder)
            self.folder.mkdir(parents=True)
            index = self._tantivy.Index(self.schema, path=str(self.folder), reuse=True)
        index.register_tokenizer("news", self._analyzer)
        return index

    def _read_state(self) -> tuple[int, str]:
        try:
            state = json.loads((self.folder / SYNC_STATE).read_text())
            return int(state["seq"]), str(state["epoch"])
        except (OSError, ValueError, KeyError):
            return 0, ""

    def _write_state(self) -> None:
        # Written after tantivy's commit: a kill in between re-applies those commits, which is
        # harmless (each change deletes the article's documents before adding them).
        tmp = self.folder / f"{SYNC_STATE}.{os.getpid()}"
        tmp.write_text(json.dumps({"seq": self.synced_seq, "epoch": self.epoch}))
        os.replace(tmp, self.folder / SYNC_STATE)


@atexit.register
def _close_all() -> None:
    """Drop tantivy writers while the interpreter still runs (their threads are native)."""
    for index in KeywordIndex._open_here.values():
        index.close()


def keyword_folder(home: Path, store: ChunkStore) -> Path:
    """Where a store's keyword cache lives: beside the embedded index, or per server and name."""
    where = re.sub(r"[^A-Za-z0-9._-]+", "_", store.where if "://" in store.where else "local")
    return home / "keyword" / f"{where}-{store.name}"
