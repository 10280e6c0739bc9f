"""Incremental ingest: load files, skip unchanged articles by hash, embed and upsert the rest."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from index import entities
from index.articles import Article, LoadError, Loaded, iter_files, load_file
from index.limits import DEFAULT_LIMITS, LoadLimits
from index.chunking import Chunk, Sentence, index_hash, split_article, split_sentences, version_of
from index.heap import release_free_memory
from index.manifest import IndexedArticle
from index.store import ChunkStore, now_iso, pack_vectors
from index.stories import StoryBook

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
    untagged: int = 0  # chunks written without entities (no recogniser here)
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
           progress: Progress | None = None, stories: StoryBook | None = None,
           limits: LoadLimits = DEFAULT_LIMITS,
           file_progress: Progress | None = None) -> IngestReport:
    """Bring the index in line with the articles under paths; never loses indexed data.

    Files are read, embedded and written a batch at a time, so memory does not grow with the
    corpus. progress is told (articles embedded, of those seen so far) after each batch;
    file_progress (files read, of total) after each file. With stories, new and changed
    articles join their near-duplicate group (see write_articles).
    """
    started = time.perf_counter()
    missing = [str(p) for p in paths if not _exists(p)]
    if missing:
        raise IngestError(f"no such file or folder: {', '.join(missing)}")
    # Absolute, so an article's origin names its file from any working directory (--prune and
    # the id check look for it later, maybe from elsewhere); symlinks are kept as they are.
    paths = [Path(os.path.abspath(p)) for p in paths]
    report = IngestReport()
    with writing(store):
        indexed = store.articles()
        files = list(iter_files(paths, report.skipped))
        present: dict[str, str] = {}  # article id -> the file it came from
        loaded: set[str] = set()
        articles = _iter_articles(files, indexed, report, present, loaded, limits, file_progress)
        _write(_plan(articles, indexed, report), store, embedder, report, stories, progress)
        if prune:
            _prune(paths, present, loaded, indexed, store, report)
            if stories is not None:
                stories.forget(report.pruned)
        report.chunks_total = store.count()
        tag_untagged(store, report)
        store.set_info({**store.info(), "last_ingest": now_iso()})
    report.seconds = time.perf_counter() - started
    log.info("ingest: %d new, %d updated, %d unchanged, %d skipped, %d chunks in %.1fs",
             len(report.new), len(report.updated), len(report.unchanged), len(report.skipped),
             report.chunks_written, report.seconds)
    return report


def write_articles(articles: list[Article], store: ChunkStore, embedder: Embeddings, *,
                   report: IngestReport | None = None,
                   stories: StoryBook | None = None) -> IngestReport:
    """Index articles that did not come from files (web pages, feeds): new, changed or unchanged.

    With stories, new and changed articles join their near-duplicate group first (index.stories)
    and the chunks of a group's other members get its new outlets and lead.
    """
    report = report if report is not None else IngestReport()
    with writing(store):
        # Only these articles' rows: a watcher's cost per poll must not grow with the archive.
        indexed = store.articles_of([a.id for a in articles])
        _write(_plan(iter(articles), indexed, report), store, embedder, report, stories)
        if report.new or report.updated:  # `status` says when the index was last written
            store.set_info({**store.info(), "last_ingest": now_iso()})
    return report


@contextmanager
def writing(store: ChunkStore) -> Iterator[None]:
    """Be the index's one writer for a while; first repair what a killed writer left."""
    store.claim_writer()
    try:
        repaired = store.repair()
        if repaired:
            log.info("repaired %d articles left half-written by an interrupted ingest", repaired)
        yield
    finally:
        store.release_writer()


def _iter_articles(files: list[Path], indexed: dict[str, IndexedArticle], report: IngestReport,
                   present: dict[str, str], loaded: set[str], limits: LoadLimits,
                   file_progress: Progress | None) -> Iterator[Article]:
    """Each file's good articles in turn; each bad file, record or taken id costs one line.

    Only files read without a skipped record count as loaded for --prune: a line that failed to
    parse may be the record that now seems to be gone.
    """
    for done, path in enumerate(files, 1):
        found = _load_one(path, limits, report)
        if file_progress:
            file_progress(done, len(files))
        if found is None:
            continue
        if not found.skipped:
            loaded.add(str(path))
        for article in found.articles:
            clash = present.get(article.id) or getattr(_clash(article, indexed), "origin", None)
            if clash is not None:
                report.skipped.append((f"{path} (id {article.id})",
                                       f"id {article.id!r} already used by {clash}"))
                continue
            present[article.id] = article.origin
            yield article


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


def _under(origin: str, roots: list[Path]) -> bool:
    """Whether an article's file lies under one of roots; a web page's URL never does. An
    origin stored relative (before origins were made absolute) is read from here."""
    if "://" in origin:
        return False
    path = Path(os.path.abspath(origin))
    return any(path == root or path.is_relative_to(root) for root in roots)


def _gone(origin: str) -> bool:
    """Whether an article's file is known to be gone (a link to nothing is); a file that cannot
    be looked at (no permission to its folder) is not."""
    try:
        os.stat(origin)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):
        return False
    return False


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()
    except (OSError, ValueError):  # a name too long for the file system, say
        return False


def _clash(article: Article, indexed: dict[str, IndexedArticle]) -> IndexedArticle | None:
    """An indexed article with the same id from another file that still exists."""
    known = indexed.get(article.id)
    if known and not same_file(known.origin, article.origin) and not _gone(known.origin):
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


def _plan(articles: Iterator[Article], indexed: dict[str, IndexedArticle],
          report: IngestReport) -> Iterator[Article]:
    """The articles that are new or changed; unchanged ones are only counted."""
    for article in articles:
        known = indexed.get(article.id)
        if known is None:
            report.new.append(article.id)
        elif known.content_hash == index_hash(article):
            report.unchanged.append(article.id)
            continue
        else:
            report.updated.append(article.id)
        yield article


def _write(articles: Iterator[Article], store: ChunkStore, embedder: Embeddings,
           report: IngestReport, stories: StoryBook | None = None,
           progress: Progress | None = None) -> None:
    done = 0
    for batch in _batches(articles):
        touched: set[str] = set()
        if stories is not None:
            batch, touched = stories.assign(batch)
        splits = [(a, split_sentences(a.text)) for a in batch]
        texts = [t for a, sents in splits for t in [a.title, *(s.text for s in sents)]]
        vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
        store_batch(splits, vectors, store, report, entities.tag(texts))
        release_free_memory()  # what the batch used, so RSS does not creep up with the corpus
        done += len(batch)
        if progress:
            progress(done, len(report.new) + len(report.updated))
        if touched:
            _restamp_stories(touched, {a.id for a in batch}, stories, store)


def _restamp_stories(touched: set[str], written: set[str], stories: StoryBook,
                     store: ChunkStore) -> None:
    """Give the chunks of a changed group's other members its current outlets and lead."""
    for story in touched:
        ref = stories.ref(story)
        others = store.articles_of([a for a in stories.members(story) if a not in written])
        ids = [cid for row in others.values() for cid in row.chunk_ids]
        if ids:
            store.update_chunk_metadata(ids, {"story_outlets": ref.outlets, "story_lead": ref.lead})


def store_batch(splits: list[tuple[Article, list[Sentence]]], vectors: np.ndarray,
                store: ChunkStore, report: IngestReport,
                ents: list[list[entities.Span]] | None = None) -> None:
    """Write a batch of articles as one crash-safe replacement (one call per step).

    vectors (and ents, when tagged) hold a row per text: each article's title, then its sentences.
    """
    chunks: list[Chunk] = []
    metas, chunk_vecs, rows = [], [], []
    row = 0
    for article, sentences in splits:
        vecs = vectors[row:row + 1 + len(sentences)]
        tags = ents[row:row + 1 + len(sentences)] if ents is not None else None
        row += 1 + len(sentences)
        art_chunks = split_article(article, sentences=sentences)
        chunks += art_chunks
        chunk_vecs.append(chunk_vectors(art_chunks, vecs[1:], vecs[0]))
        metas += [{**c.metadata(), **_sentence_fields(c, sentences, vecs[1:]),
                   **_entity_fields(c, tags)} for c in art_chunks]
        rows.append(IndexedArticle(article.id, index_hash(article), article.origin,
                                   version_of(article), len(art_chunks), article.date,
                                   len(sentences)))
    store.replace_articles(rows, [c.id for c in chunks], [c.text for c in chunks], metas,
                           np.vstack(chunk_vecs))
    report.chunks_written += len(chunks)
    report.untagged += 0 if ents is not None else len(chunks)


def _sentence_fields(chunk: Chunk, sentences: list[Sentence], vecs: np.ndarray) -> dict:
    """A chunk's sentences' spans and vectors, so answers are scored without another lookup."""
    span = range(chunk.first_sentence, chunk.last_sentence + 1)
    return {"sent_spans": ";".join(f"{sentences[i].start},{sentences[i].end}" for i in span),
            "sent_vecs": pack_vectors(vecs[chunk.first_sentence:chunk.last_sentence + 1])}


def tag_untagged(store: ChunkStore, report: IngestReport) -> int:
    """Tag the entities of chunks written before this version or without a recogniser.

    Metadata only (no embedding), batch by batch, so a kill loses nothing: the next run goes on
    with the chunks still untagged. The store's info records the version once all are tagged.
    Returns how many chunks were tagged.
    """
    info = store.info()
    if report.untagged:
        if info.get("entities"):
            store.set_info({k: v for k, v in info.items() if k != "entities"})
        return 0
    if info.get("entities") == entities.VERSION or not entities.available():
        return 0  # checked first: an index with nothing to tag never loads the recogniser
    ids = [cid for art in store.articles().values() if art.live for cid in art.chunk_ids]
    tagged = 0
    for i in range(0, len(ids), EMBED_BATCH // 4):
        rows = store.get_chunks(ids[i:i + EMBED_BATCH // 4])
        todo = {cid: [meta.get("title") or "", *chunk_sentences(text, meta)]
                for cid, (text, meta) in rows.items() if meta.get("sent_ents") is None}
        tags = entities.tag([t for texts in todo.values() for t in texts])
        if tags is None:
            return tagged
        values, row = [], 0
        for texts in todo.values():  # the title's spans, then each sentence's
            values.append({"title_ents": entities.pack(tags[row]), "sent_ents": ";".join(
                entities.pack(t) for t in tags[row + 1:row + len(texts)])})
            row += len(texts)
        store.update_chunk_metadata(list(todo), values)
        tagged += len(todo)
        release_free_memory()
    store.set_info({**store.info(), "entities": entities.VERSION})
    return tagged


def chunk_sentences(text: str, meta: dict) -> list[str]:
    """A chunk's sentences, cut from its text by the spans stored with it."""
    out = []
    for span in (meta.get("sent_spans") or "").split(";") if meta.get("sent_spans") else []:
        start, end = (int(x) - meta["start"] for x in span.split(","))
        out.append(text[start:end])
    return out


def _entity_fields(chunk: Chunk, tags: list[list[entities.Span]] | None) -> dict:
    """The title's and the chunk's sentences' entity spans (index.entities), when tagged."""
    if tags is None:
        return {}
    return {"title_ents": entities.pack(tags[0]),
            "sent_ents": ";".join(entities.pack(tags[1 + i])
                                  for i in range(chunk.first_sentence, chunk.last_sentence + 1))}


def _batches(articles: Iterator[Article]) -> Iterator[list[Article]]:
    """Groups of whole articles holding about EMBED_BATCH sentences each."""
    group: list[Article] = []
    size = 0
    for article in articles:
        group.append(article)
        size += article.text.count(". ") + 1
        if size >= EMBED_BATCH:
            yield group
            group, size = [], 0
    if group:
        yield group


def _prune(roots: list[Path], present: dict[str, str], loaded: set[str],
           indexed: dict[str, IndexedArticle], store: ChunkStore, report: IngestReport) -> None:
    """Remove the articles under roots whose file is gone, or whose file was read and no longer
    holds them. Articles from other folders, and web pages (`watch`, URLs), are not touched."""
    gone = [art for art in indexed.values() if art.article_id not in present
            and _under(art.origin, roots)
            and (_gone(art.origin) or any(same_file(art.origin, o) for o in loaded))]
    if gone:
        store.remove_articles(gone)
        report.pruned += [art.article_id for art in gone]
