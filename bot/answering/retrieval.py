"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused, with per-sentence scores.

Each returned Document is one chunk. Its metadata carries the citation fields, the fused rank
score, and ``sentences``: every sentence of the chunk with its cosine similarity to the query,
read from the sentence vectors stored at ingest, so answer extraction embeds nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import date

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from index.chunking import sentence_id
from index.store import ChunkStore

log = logging.getLogger(__name__)
RRF_K = 60  # the constant from Cormack et al.'s reciprocal rank fusion
# News questions are about recent reports: articles dated within this many days before the
# question's date get one extra fused "vote", as if a third ranking put them first.
RECENCY_DAYS = 10
RECENCY_WEIGHT = 1.0 / (RRF_K + 1)
STALE_CHECK_S = 5.0


class KeywordIndex:
    """BM25 over every chunk's text and title, rebuilt when the store changes."""

    def __init__(self, rows: list[tuple[str, str, dict]]) -> None:
        import bm25s
        import Stemmer

        # bm25s sets its logger to DEBUG when imported; its messages are ours to route.
        logging.getLogger("bm25s").setLevel(logging.NOTSET)
        self._bm25s = bm25s
        self.stemmer = Stemmer.Stemmer("english")
        self.rows = rows
        self.by_id = {chunk_id: (text, meta) for chunk_id, text, meta in rows}
        self.model = bm25s.BM25()
        if rows:
            corpus = [f"{meta.get('title', '')}\n{text}" for _, text, meta in rows]
            self.model.index(self._tokens(corpus), show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(row index, score) of the best k rows with a positive score."""
        if not self.rows:
            return []
        tokens = self._tokens([query])
        if not tokens[0]:
            return []
        ids, scores = self.model.retrieve(tokens, k=min(k, len(self.rows)), show_progress=False,
                                          n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        return self._bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer,
                                    return_ids=False, show_progress=False)


class HybridRetriever(BaseRetriever):
    """Fuses dense and BM25 chunk rankings by reciprocal rank and scores each chunk's sentences."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embedder: Embeddings
    k: int = 5
    fetch_k: int = 30
    _keyword: KeywordIndex | None = PrivateAttr(default=None)
    _keyword_state: tuple = PrivateAttr(default=())
    _checked: float = PrivateAttr(default=0.0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query)

    def search(self, query: str, as_of: date | None = None) -> list[Document]:
        """The top k chunks for query, preferring articles from the days before as_of."""
        q_vec = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        fused, rows = self.fuse(query, q_vec, as_of)
        scores = dict(fused)
        docs = [Document(page_content=rows[cid][0], id=cid, metadata={
                    **rows[cid][1], "chunk_id": cid, "rank_score": scores.get(cid, 0.0)})
                for cid in self.select([cid for cid, _ in fused], rows, q_vec)]
        self._score_sentences(docs, q_vec)
        return docs

    def select(self, ranked: list[str], rows: dict[str, tuple[str, dict]],
               q_vec: np.ndarray) -> list[str]:
        """The chunk ids, from the fused ranking, whose sentences become answer candidates.

        The top k. `python -m bot.measurement.tuning --retrieval` compares the alternatives the field
        suggests (MMR, one chunk per article, neighbouring chunks around the best hits); none beat
        this on the dev sets (README "Tried and not kept"). An override may add ids to rows.
        """
        return ranked[: self.k]

    def fuse(self, query: str, q_vec: np.ndarray,
             as_of: date | None = None) -> tuple[list[tuple[str, float]], dict]:
        """Reciprocal-rank fusion of the dense and BM25 chunk rankings, best first.

        Returns [(chunk id, fused score)] and {chunk id: (text, metadata)}.
        """
        keyword = self.keyword_index()
        fused: dict[str, float] = {}
        rows: dict[str, tuple[str, dict]] = {}
        # Texts and metadata come from the keyword index's copy: Chroma returns ids only, which
        # is several times faster than fetching documents with every query.
        dense = self.store.query_ids(q_vec.tolist(), min(self.fetch_k, len(keyword.rows)))
        for rank, (chunk_id, _) in enumerate(dense):
            if chunk_id not in keyword.by_id:
                continue  # stored after the keyword index was built; it joins at the next refresh
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            rows[chunk_id] = keyword.by_id[chunk_id]
        for rank, (row, _) in enumerate(keyword.search(query, self.fetch_k)):
            chunk_id, text, meta = keyword.rows[row]
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            rows.setdefault(chunk_id, (text, meta))
        if as_of is not None:
            for chunk_id in fused:
                if is_recent(rows[chunk_id][1].get("date", ""), as_of):
                    fused[chunk_id] += RECENCY_WEIGHT
        return sorted(fused.items(), key=lambda kv: kv[1], reverse=True), rows

    def rank_articles(self, query: str, n: int = 10, as_of: date | None = None) -> list[str]:
        """Distinct article ids in fused rank order, for retrieval metrics."""
        q_vec = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        fused, rows = self.fuse(query, q_vec, as_of)
        return distinct([rows[cid][1]["article_id"] for cid, _ in fused])[:n]

    def warm_up(self) -> None:
        """Load the embedding model, the keyword index and Chroma's vector indexes ahead of the
        first question: one throwaway search (Chroma loads a persisted index on first use, which
        cost the first question about 0.45 s on the 1,000-article corpus)."""
        self.search("warm up")

    def keyword_index(self) -> KeywordIndex:
        """The in-memory chunk copy and BM25 index, rebuilt when another ingest changed the store.

        The store is asked at most every STALE_CHECK_S seconds (asking costs more than a query).
        """
        with self._lock:
            now = time.monotonic()
            if self._keyword is not None and now - self._checked < STALE_CHECK_S:
                return self._keyword
            self._checked = now
            state = (self.store.count(), self.store.info().get("last_ingest"))
            if self._keyword is None or state != self._keyword_state:
                self._keyword = KeywordIndex(self.store.all_chunks())
                self._keyword_state = state
                log.info("keyword index built over %d chunks", len(self._keyword.rows))
            return self._keyword

    def _score_sentences(self, docs: list[Document], q_vec: np.ndarray) -> None:
        wanted = [i for d in docs for i in chunk_sentence_ids(d.metadata)]
        stored = self.store.sentence_vectors(distinct(wanted))  # overlapping chunks share some
        for doc in docs:
            meta = doc.metadata
            scored = []
            for n in range(meta["first_sentence"], meta["last_sentence"] + 1):
                found = stored.get(sentence_id(meta["article_id"], n))
                if found is None:
                    continue
                smeta, vec = found
                lo, hi = smeta["start"] - meta["start"], smeta["end"] - meta["start"]
                scored.append({"n": n, "text": doc.page_content[lo:hi], "start": smeta["start"],
                               "end": smeta["end"], "score": float(np.dot(q_vec, vec))})
            meta["sentences"] = scored
            meta["support"] = max((s["score"] for s in scored), default=0.0)


def is_recent(article_date: str, as_of: date) -> bool:
    """Whether an article's YYYY-MM-DD date falls in the RECENCY_DAYS up to as_of."""
    try:
        published = date.fromisoformat(article_date)
    except ValueError:
        return False
    return 0 <= (as_of - published).days <= RECENCY_DAYS


def chunk_sentence_ids(meta: dict) -> list[str]:
    """The stored sentence ids of a chunk, from its metadata, in order."""
    return [sentence_id(meta["article_id"], n)
            for n in range(meta["first_sentence"], meta["last_sentence"] + 1)]


def distinct(ids: list[str]) -> list[str]:
    """ids without repeats, first occurrence kept."""
    return list(dict.fromkeys(ids))
