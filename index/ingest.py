"""Incremental ingest: load files, skip unchanged articles by hash, embed and upsert the rest."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from index.articles import Article, LoadError, Loaded, iter_files, load_file
from index.limits import DEFAULT_LIMITS, LoadLimits
from index.chunking import Chunk, Sentence, index_hash, sentence_id, split_article, split_sentences
from index.store import ChunkStore, IndexedArticle, now_iso

log = logging.getLogger(__name__)
EMBED_BATCH = 512  # sentences per embedding call
TITLE_WEIGHT = 0.5
Progress = Callable[[int, int], None]


class IngestError(Exception):
    """Ingest cannot start (a path that does not exist, say); the message says why."""


@dataclass
class IngestReport:
    """What one ingest run did, for the summary line and for tests."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or article, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # indexed, but changed: why
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0


def chunk_vectors(chunks: list[Chunk], sentence_vecs: np.ndarray, title_vec: np.ndarray) -> np.ndarray:
    """A chunk's vector: the mean of its sentences' vectors plus its title's, unit length.

    Embedding each sentence once and pooling costs less than embedding overlapping chunks, and
    the sentence vectors are kept for answer extraction.
    """
    rows = [sentence_vecs[c.first_sentence:c.last_sentence + 1].mean(axis=0) + TITLE_WEIGHT * title_vec
            for c in chunks]
    out = np.vstack(rows)
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-9)


def ingest(paths: list[Path], store: ChunkStore, embedder: Embeddings, *, prune: bool = False,
           progress: Progress | None = None, limits: LoadLimits = DEFAULT_LIMITS,
           file_progress: Progress | None = None) -> IngestReport:
    """Bring the index in line with the articles under paths; never loses indexed data.

    progress is told (articles embedded, of total) after each batch; file_progress (files read,
    of total) after each file.
    """
    started = time.perf_counter()
    missing = [str(p) for p in paths if not _exists(p)]
    if missing:
        raise IngestError(f"no such file or folder: {', '.join(missing)}")
    report = IngestReport()
    indexed = store.articles()
    articles, loaded_origins = _load_all(paths, indexed, report, limits, file_progress)
    write_articles(articles, store, embedder, report=report, indexed=indexed, progress=progress)
    if prune:
        _prune(articles, loaded_origins, indexed, store, report)
    report.chunks_total = store.count()
    report.seconds = time.perf_counter() - started
    store.set_info({**store.info(), "last_ingest": now_iso()})
    log.info("ingest: %d new, %d updated, %d unchanged, %d skipped, %d chunks in %.1fs",
             len(report.new), len(report.updated), len(report.unchanged), len(report.skipped),
             report.chunks_written, report.seconds)
    return report


def write_articles(articles: list[Article], store: ChunkStore, embedder: Embeddings, *,
                   report: IngestReport | None = None,
                   indexed: dict[str, IndexedArticle] | None = None,
                   progress: Progress | None = None) -> IngestReport:
    """Index articles that did not come from files (web pages, feeds): new, changed or unchanged."""
    report = report if report is not None else IngestReport()
    indexed = indexed if indexed is not None else store.articles()
    _write(_plan(articles, indexed, report), indexed, store, embedder, report, progress)
    return report


def _load_all(paths: list[Path], indexed: dict[str, IndexedArticle], report: IngestReport,
              limits: LoadLimits = DEFAULT_LIMITS,
              file_progress: Progress | None = None) -> tuple[list[Article], set[str]]:
    """Every good article under paths; each bad file, record or id costs one report line.

    Only files read without a skipped record count as loaded for --prune: a line that failed to
    parse may be the record that now seems to be gone.
    """
    articles: dict[str, Article] = {}
    loaded: set[str] = set()
    files = list(iter_files(paths, report.skipped))
    for done, path in enumerate(files, start=1):
        found = _load_one(path, limits, report)
        if file_progress:
            file_progress(done, len(files))
        if found is None:
            continue
        if not found.skipped:
            loaded.add(str(path))
        for article in found.articles:
            clash = articles.get(article.id) or _clash(article, indexed)
            if clash is not None:
                report.skipped.append((f"{path} (id {article.id})",
                                       f"id {article.id!r} already used by {clash.origin}"))
                continue
            articles[article.id] = article
    return list(articles.values()), loaded


def _load_one(path: Path, limits: LoadLimits, report: IngestReport) -> Loaded | None:
    """One file's articles, its problems added to the report; None if none of it was read."""
    try:
        found = load_file(path, limits)
    except LoadError as exc:
        report.skipped.append((str(path), str(exc)))
        return None
    except Exception as exc:  # a loader bug on one hostile file must not stop the others
        log.debug("loading %s failed", path, exc_info=True)
        report.skipped.append((str(path), f"could not be read ({type(exc).__name__})"))
        return None
    report.skipped += found.skipped
    report.warnings += found.warnings
    return found


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):  # a name too long for the file system, say
        return False


def _clash(article: Article, indexed: dict[str, IndexedArticle]) -> IndexedArticle | None:
    """An indexed article with the same id from another file that still exists."""
    known = indexed.get(article.id)
    if known and not same_file(known.origin, article.origin) and Path(known.origin).exists():
        return known
    return None


def same_file(a: str, b: str) -> bool:
    """Whether two origins name one file, however the path was spelled."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _plan(articles: list[Article], indexed: dict[str, IndexedArticle],
          report: IngestReport) -> list[Article]:
    to_write = []
    for article in articles:
        known = indexed.get(article.id)
        if known is None:
            report.new.append(article.id)
        elif known.content_hash == index_hash(article):
            report.unchanged.append(article.id)
            continue
        else:
            report.updated.append(article.id)
        to_write.append(article)
    return to_write


def _write(articles: list[Article], indexed: dict[str, IndexedArticle], store: ChunkStore,
           embedder: Embeddings, report: IngestReport, progress: Progress | None) -> None:
    done = 0
    for batch in _batches(articles):
        splits = [(a, split_sentences(a.text)) for a in batch]
        texts = [t for a, sents in splits for t in [a.title, *(s.text for s in sents)]]
        vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        _store_batch(splits, vectors, indexed, store, report)
        done += len(batch)
        if progress:
            progress(done, len(articles))


def _store_batch(splits: list[tuple[Article, list[Sentence]]], vectors: np.ndarray,
                 indexed: dict[str, IndexedArticle], store: ChunkStore,
                 report: IngestReport) -> None:
    """Upsert a batch of articles in one call per collection (each call costs a disk sync)."""
    sent_ids, sent_metas, sent_vecs = [], [], []
    chunks: list[Chunk] = []
    chunk_vecs = []
    stale_chunks, stale_sentences = [], []
    row = 0
    for article, sentences in splits:
        vecs = vectors[row:row + 1 + len(sentences)]
        row += 1 + len(sentences)
        art_chunks = split_article(article, sentences=sentences)
        sent_ids += [sentence_id(article.id, i) for i in range(len(sentences))]
        sent_metas += [{"article_id": article.id, "n": i, "start": s.start, "end": s.end}
                       for i, s in enumerate(sentences)]
        sent_vecs.append(vecs[1:])
        chunks += art_chunks
        chunk_vecs.append(chunk_vectors(art_chunks, vecs[1:], vecs[0]))
        known = indexed.get(article.id)
        if known is not None:
            fresh = {c.id for c in art_chunks}
            stale_chunks += [cid for cid in known.chunk_ids if cid not in fresh]
            stale_sentences += [sentence_id(article.id, i)
                                for i in range(len(sentences), known.n_sentences)]
    store.upsert_sentences(sent_ids, sent_metas, np.vstack(sent_vecs))
    store.upsert([c.id for c in chunks], [c.text for c in chunks], [c.metadata() for c in chunks],
                 np.vstack(chunk_vecs))
    store.record_articles([
        IndexedArticle(a.id, index_hash(a), a.origin, [c.id for c in chunks if c.article is a],
                       a.date, len(sentences)) for a, sentences in splits])
    report.chunks_written += len(chunks)
    # Only now, with the new versions stored, drop what they no longer have.
    store.delete(stale_chunks, stale_sentences)


def _batches(articles: list[Article]) -> list[list[Article]]:
    """Groups of whole articles holding about EMBED_BATCH sentences each."""
    groups: list[list[Article]] = [[]]
    size = 0
    for article in articles:
        if size >= EMBED_BATCH:
            groups.append([])
            size = 0
        groups[-1].append(article)
        size += article.text.count(". ") + 1
    return [g for g in groups if g]


def _prune(articles: list[Article], loaded_origins: set[str],
           indexed: dict[str, IndexedArticle], store: ChunkStore, report: IngestReport) -> None:
    """Remove articles whose file is gone, or whose file was read and no longer holds them."""
    present = {a.id for a in articles}
    for art in indexed.values():
        if art.article_id in present:
            continue
        if not Path(art.origin).exists() or any(same_file(art.origin, o) for o in loaded_origins):
            store.delete(art.chunk_ids,
                         [sentence_id(art.article_id, i) for i in range(art.n_sentences)],
                         [art.article_id])
            report.pruned.append(art.article_id)


