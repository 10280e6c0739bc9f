"""Hybrid retrieval: dense (Chroma) and keyword (tantivy BM25) rankings fused, with sentence scores.

Each returned Document is one chunk. Its metadata carries the citation fields, the fused rank
score, and ``sentences``: every sentence of the chunk with its cosine similarity to the query,
read from the sentence vectors stored with the chunk at ingest, so answer extraction embeds nothing.
"""

from __future__ import annotations

import atexit
import logging
import re
import threading
import time
from datetime import date, timedelta

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from bot.answering.dates import Filters, Window, date_window, is_dated, within
from index.entities import unpack
from index.keyword import KeywordIndex, KeywordWriteError
from index.store import ChunkStore, unpack_vectors

log = logging.getLogger(__name__)
RRF_K = 60  # the constant from Cormack et al.'s reciprocal rank fusion
# News questions are about recent reports: articles dated within this many days before the
# question's date get one extra fused "vote", as if a third ranking put them first.
RECENCY_DAYS = 10
RECENCY_WEIGHT = 1.0 / (RRF_K + 1)
SYNC_INTERVAL_S = 2.0  # how often a running bot looks for new commits in the store
OVERFETCH = 4  # fetch_k times this when filters or a question's date words narrow the candidates
# A question asked as of a past day sees the reports published by then; a report may carry the
# next day's date (time zones).
PUBLISHED_SLACK_DAYS = 1
# Set at exit: background syncs stop and are joined while the interpreter can still run them
# (a thread left inside tantivy or Chroma's native code during shutdown crashes the process).
_STOPPING = threading.Event()
_FOLLOWERS: list[threading.Thread] = []


@atexit.register
def _stop_followers() -> None:
    _STOPPING.set()
    for thread in _FOLLOWERS:
        thread.join(timeout=30)


class HybridRetriever(BaseRetriever):
    """Fuses dense and BM25 chunk rankings by reciprocal rank and scores each chunk's sentences.

    Chunk texts and metadata are fetched from the store per question, for the candidates only,
    and only in the version each article's manifest row names: nothing of the corpus is copied
    into memory, and an edit is served whole or not at all.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    embedder: Embeddings
    keyword: KeywordIndex
    k: int = 5
    fetch_k: int = 30
    _count: int = PrivateAttr(default=-1)
    _synced: float = PrivateAttr(default=0.0)
    _sync_thread: threading.Thread | None = PrivateAttr(default=None)
    _stale_keyword: bool = PrivateAttr(default=False)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self.search(query)

    def search(self, query: str, as_of: date | None = None,
               filters: Filters | None = None) -> list[Document]:
        """The top k chunks for query, preferring articles from the days before as_of."""
        q_vec = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        fused, rows = self.fuse(query, q_vec, as_of, filters)
        scores = dict(fused)
        docs = [Document(page_content=rows[cid][0], id=cid, metadata={
                    **rows[cid][1], "chunk_id": cid, "rank_score": scores.get(cid, 0.0)})
                for cid in self.select([cid for cid, _ in fused], rows, q_vec)]
        for doc in docs:
            score_sentences(doc, q_vec)
        return docs

    def select(self, ranked: list[str], rows: dict[str, tuple[str, dict]],
               q_vec: np.ndarray) -> list[str]:
        """The chunk ids, from the fused ranking, whose sentences become answer candidates.

        The top k. `python -m bot.measurement.tuning --retrieval` compares the alternatives the
        field suggests (MMR, one chunk per article, neighbouring chunks around the best hits); none
        beat this on the dev sets (README "Tried and not kept"). An override may add ids to rows.
        """
        return ranked[: self.k]

    def fuse(self, query: str, q_vec: np.ndarray, as_of: date | None = None,
             filters: Filters | None = None) -> tuple[list[tuple[str, float]], dict]:
        """Reciprocal-rank fusion of the dense and BM25 chunk rankings, best first.

        Candidates outside filters are dropped, as are reports published after as_of where it
        is a past day, and outside the question's date words' window
        where that leaves any; "latest" and the like add a newest-first ranking; each story
        keeps one member's chunks. Returns [(chunk id, fused score)] and {chunk id: (text,
        metadata)}.
        """
        self._refresh()
        window = date_window(query, as_of) if as_of is not None else Window()
        narrow = bool(window.since or window.until or (filters and filters.is_set()))
        fetch_k = self.fetch_k * (OVERFETCH if narrow else 1)
        dense = [cid for cid, _ in self.store.query_ids(q_vec.tolist(),
                                                        min(fetch_k, self._count))]
        keyword = [cid for cid, _ in self.keyword.search(query, fetch_k)]
        rows = narrow_rows(self.store.current_chunks(distinct(dense + keyword)), filters, window)
        if as_of is not None and as_of < date.today():
            rows = published_by(rows, as_of + timedelta(days=PUBLISHED_SLACK_DAYS))
        fused: dict[str, float] = {}
        for ranking in (dense, keyword):
            served = [cid for cid in ranking if cid in rows]  # other versions are not served
            for rank, chunk_id in enumerate(served):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        if as_of is not None:
            for chunk_id in fused:
                if is_recent(rows[chunk_id][1].get("date", ""), as_of):
                    fused[chunk_id] += RECENCY_WEIGHT
        if window.recent:
            add_newest_first(fused, rows)
        return one_per_story(sorted(fused.items(), key=lambda kv: kv[1], reverse=True), rows), rows

    def rank_articles(self, query: str, n: int = 10, as_of: date | None = None) -> list[str]:
        """Distinct article ids in fused rank order, for retrieval metrics."""
        q_vec = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        fused, rows = self.fuse(query, q_vec, as_of)
        return distinct([rows[cid][1]["article_id"] for cid, _ in fused])[:n]

    def warm_up(self, *, follow: bool = False) -> None:
        """Load the embedding model, bring the keyword index up to date and run one throwaway
        search (Chroma loads a persisted index on first use, which cost the first question about
        0.45 s on the 1,000-article corpus). follow: catch up in a background thread instead, and
        keep doing so, so a long-running bot sees new, edited and deleted articles within
        SYNC_INTERVAL_S; a replica whose keyword index must first be built answers from the
        vector side meanwhile."""
        if follow and self._sync_thread is None:
            self._count, self._synced = self.store.count(), time.monotonic()
            self._sync_thread = threading.Thread(target=self._follow, name="keyword-sync",
                                                 daemon=True)
            self._sync_thread.start()
            _FOLLOWERS.append(self._sync_thread)
        else:
            self.sync()
        self.search("warm up")

    def sync(self) -> None:
        """Catch the keyword index up with the store, and note the store's size. A keyword
        cache that cannot be written (a full disk) is served as it is, with one warning."""
        try:
            self.keyword.catch_up(self.store)
            self._stale_keyword = False
        except KeywordWriteError as exc:
            if not self._stale_keyword:
                log.warning("%s; answering from what it holds", exc)
            self._stale_keyword = True
        self._count = self.store.count()
        self._synced = time.monotonic()

    def _refresh(self) -> None:
        # Without a background thread (eval, one-shot ask), sync inline now and then.
        if self._sync_thread is None and time.monotonic() - self._synced > SYNC_INTERVAL_S:
            self.sync()

    def _follow(self) -> None:
        failing = False
        while True:
            try:
                self.sync()
                if failing:
                    log.warning("keyword index sync works again")
                failing = False
            except Exception as exc:  # a store that is briefly unreachable must not end the loop
                # one line when it starts failing, not one a second for the whole outage
                log.log(logging.DEBUG if failing else logging.WARNING,
                        "keyword index sync failed: %s", (str(exc).splitlines() or [""])[0])
                failing = True
            if _STOPPING.wait(SYNC_INTERVAL_S):
                return


def score_sentences(doc: Document, q_vec: np.ndarray) -> None:
    """Score each sentence of a chunk against the query from the vectors stored with the chunk.

    Moves the packed vectors out of the metadata and leaves ``sentences`` ([{n, text, start,
    end, score}]) and ``support`` (the best score) in their place.
    """
    meta = doc.metadata
    packed, spans = meta.pop("sent_vecs", ""), meta.pop("sent_spans", "")
    ents = meta.pop("sent_ents", None)
    if "sentences" in meta:
        return
    vecs = unpack_vectors(packed, len(q_vec)) if packed else np.zeros((0, len(q_vec)))
    scores = vecs @ q_vec
    per_sentence = ents.split(";") if ents is not None else []
    scored = []
    for i, (n, span, score) in enumerate(zip(range(meta["first_sentence"],
                                                   meta["last_sentence"] + 1),
                                             spans.split(";") if spans else [], scores)):
        start, end = (int(x) for x in span.split(","))
        lo, hi = start - meta["start"], end - meta["start"]
        text = doc.page_content[lo:hi]
        scored.append({"n": n, "text": text, "start": start, "end": end, "score": float(score),
                       "ents": unpack(text, per_sentence[i]) if i < len(per_sentence) else None})
    meta["sentences"] = scored
    meta["support"] = max((s["score"] for s in scored), default=0.0)


def narrow_rows(rows: dict[str, tuple[str, dict]], filters: Filters | None,
                window: Window) -> dict[str, tuple[str, dict]]:
    """rows within filters (always) and the date words' window (when any row is in it).

    Rows kept by the window carry ``date_window`` (its label) for the answer's filters echo.
    """
    if filters is not None and filters.is_set():
        rows = {cid: row for cid, row in rows.items() if filters.admits(row[1])}
    if window.since or window.until:
        dated = Filters(since=window.since, until=window.until)
        inside = {cid: row for cid, row in rows.items() if dated.admits(row[1])}
        if inside:
            for _, meta in inside.values():
                meta["date_window"] = window.label()
            return inside
    return rows


def published_by(rows: dict[str, tuple[str, dict]], day: date) -> dict[str, tuple[str, dict]]:
    """rows without the reports dated after day: what an index could hold on that day (an
    undated report is kept, as its day is unknown)."""
    return {cid: row for cid, row in rows.items()
            if not is_dated(row[1].get("date", "")) or within(row[1]["date"], None, day)}


def add_newest_first(fused: dict[str, float], rows: dict[str, tuple[str, dict]]) -> None:
    """One more reciprocal-rank vote from a ranking by date, newest first (same date, same rank)."""
    dates = sorted({rows[cid][1].get("date", "") for cid in fused
                    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[cid][1].get("date", ""))},
                   reverse=True)
    rank = {d: r for r, d in enumerate(dates)}
    for cid in fused:
        r = rank.get(rows[cid][1].get("date", ""))
        if r is not None:
            fused[cid] += 1.0 / (RRF_K + r + 1)


def one_per_story(ranked: list[tuple[str, float]],
                  rows: dict[str, tuple[str, dict]]) -> list[tuple[str, float]]:
    """The ranking with one article per story: the story's lead where it is a candidate, else
    its best-ranked member; the kept article's best chunk takes the story's best score."""
    present = {rows[cid][1].get("article_id") for cid, _ in ranked}
    chosen: dict[str, str] = {}
    best: dict[str, float] = {}
    for cid, score in ranked:
        meta = rows[cid][1]
        story = meta.get("story")
        if story and story not in chosen:
            lead = meta.get("story_lead")
            chosen[story] = lead if lead in present else meta.get("article_id")
            best[story] = score
    kept: list[tuple[str, float]] = []
    for cid, score in ranked:
        meta = rows[cid][1]
        story = meta.get("story")
        if story and meta.get("article_id") != chosen[story]:
            continue
        kept.append((cid, max(score, best.pop(story, score)) if story else score))
    return sorted(kept, key=lambda kv: kv[1], reverse=True)


def is_recent(article_date: str, as_of: date) -> bool:
    """Whether an article's YYYY-MM-DD date falls in the RECENCY_DAYS up to as_of."""
    try:
        published = date.fromisoformat(article_date)
    except ValueError:
        return False
    return 0 <= (as_of - published).days <= RECENCY_DAYS


def distinct(ids: list[str]) -> list[str]:
    """ids without repeats, first occurrence kept."""
    return list(dict.fromkeys(ids))
