"""Wiring for `newsbot eval`: index the corpus once, run newsbot (and the baseline), score both."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.answering.answer import Answerer
from bot.measurement.baseline import BaselinePipeline
from bot.measurement.holdout import HoldoutRetriever, as_unanswerable, held_out
from bot.measurement.evaluation import (EvalQuestion, Response, Scored, corpus_collection, load_questions,
                            run_pipeline, summarize, timed, write_rows)
from bot.errors import UsageError
from bot.settings import Settings
from index import entities
from index.articles import Article, LoadError, load_path
from index.limits import CORPUS_LIMITS
from index.ingest import ingest
from index.connection import open_store
from index.store import ChunkStore
from index.stories import StoryBook

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]


@dataclass
class EvalResult:
    """Metrics (and per-question rows) for newsbot and, optionally, the baseline."""

    metrics: dict
    rows: list[Scored]
    baseline: dict | None = None
    baseline_rows: list[Scored] | None = None


def evaluate(settings: Settings, corpus: Path, questions_path: Path, *, embedder: Embeddings,
             answerer_factory: Callable[..., Answerer], baseline: bool = False,
             limit: int | None = None, progress: Progress | None = None,
             holdout_gold: bool = False, today: date | None = None) -> EvalResult:
    """Run the eval end to end; the corpus is indexed into its own collection, reused if unchanged.

    With holdout_gold, each answerable question is asked with the articles that report its answer
    out of reach (bot.measurement.holdout) and graded as unanswerable: abstaining is right.
    answerer_factory(store, retriever=None) builds the answerer, around a given retriever if any.
    today: the day a question without its own date is asked (default: the real today).
    """
    questions = load_questions(questions_path)[:limit]
    articles = load_corpus(corpus)
    texts = {a.id: a.text for a in articles}
    store = prepare_index(settings, corpus, embedder, progress)
    if holdout_gold:
        from bot.factories import make_keyword_index

        retriever = HoldoutRetriever(store=store, embedder=embedder, k=settings.top_k,
                                     keyword=make_keyword_index(settings, store))
        answerer = answerer_factory(store, retriever)
        blocked = {q.id: held_out(q, texts) for q in questions if q.answers}
        questions = [as_unanswerable(q) for q in questions if q.answers]
        ask = lambda q: respond(answerer, q, retriever, blocked[q.id], today)  # noqa: E731
    else:
        answerer = answerer_factory(store)
        ask = lambda q: respond(answerer, q, today=today)  # noqa: E731
    rows = run_pipeline(ask, questions, lambda i: texts.get(i, ""), _stage(progress, "answering"))
    result = EvalResult(summarize(rows), rows)
    if baseline:
        pipeline = prepare_baseline(settings, corpus, articles, embedder, progress)
        result.baseline_rows = run_pipeline(lambda q: respond_baseline(pipeline, q), questions,
                                            lambda i: texts.get(i, ""),
                                            _stage(progress, "baseline answering"))
        result.baseline = summarize(result.baseline_rows)
    return result


def respond(answerer: Answerer, q: EvalQuestion, holdout: HoldoutRetriever | None = None,
            blocked: set[str] | None = None, today: date | None = None) -> Response:
    """newsbot's answer through the same chain as `newsbot ask`, plus its article ranking;
    with a holdout retriever, the blocked articles are out of its reach. A question without a
    date of its own is asked on `today` when given."""
    if holdout is not None:
        holdout.blocked = blocked or set()
    as_of = as_of_date(q) or today
    answer, ms = timed(lambda: answerer.answer(q.question, as_of=as_of))
    ranked = answerer.retriever.rank_articles(q.question, 10, as_of) if answerer.retriever else []
    return Response(answer, ranked, ms)


def as_of_date(q: EvalQuestion) -> date | None:
    """The question's date, which the bot may be given; None where the set has none."""
    try:
        return date.fromisoformat(q.question_date) if q.question_date else None
    except ValueError:
        return None


def respond_baseline(pipeline: BaselinePipeline, q: EvalQuestion) -> Response:
    """The baseline's answer and ranking."""
    (answer, ranked), ms = timed(lambda: pipeline.answer(q.question))
    return Response(answer, ranked, ms)


def load_corpus(corpus: Path) -> list[Article]:
    """Every article of the corpus file, or a UsageError."""
    if not corpus.is_file():
        raise UsageError(f"no such corpus file: {corpus}")
    try:
        return load_path(corpus, CORPUS_LIMITS)
    except LoadError as exc:
        raise UsageError(f"{corpus}: {exc}") from exc


def prepare_index(settings: Settings, corpus: Path, embedder: Embeddings,
                  progress: Progress | None) -> ChunkStore:
    """The corpus's own collection, indexed unless its content hash is already recorded (and its
    entities tagged, index.entities: an index from before them is tagged, not re-embedded).

    Its articles are grouped into stories (index.stories) as `newsbot index` groups them, in a
    story book of its own under NEWSBOT_HOME; the "-s" name keeps older ungrouped indexes apart.
    """
    name, digest = corpus_collection(corpus, prefix="eval-s")
    store = open_store(settings.home, settings.chroma_url, name)
    info = store.info()
    if info.get("corpus_hash") != digest or (info.get("entities") != entities.VERSION
                                             and entities.available()):
        settings.home.mkdir(parents=True, exist_ok=True)
        report = ingest([corpus], store, embedder, progress=_stage(progress, "indexing corpus"),
                        limits=CORPUS_LIMITS,
                        stories=StoryBook(settings.home / f"{name}.stories.sqlite"))
        log.info("eval corpus indexed: %d articles, %d chunks in %.1f s",
                 len(report.new) + len(report.updated), report.chunks_written, report.seconds)
        if report.skipped:  # scores over part of a corpus would pass for scores over all of it
            where, why = report.skipped[0]
            raise UsageError(f"{corpus}: {len(report.skipped)} record(s) could not be read "
                             f"(the first: {where}: {why}); fix the corpus and run again")
        store.set_info({**store.info(), "corpus_hash": digest})
    return store


def prepare_baseline(settings: Settings, corpus: Path, articles: list[Article],
                     embedder: Embeddings, progress: Progress | None) -> BaselinePipeline:
    """The baseline's collection, indexed unless already done for this corpus."""
    name, digest = corpus_collection(corpus, prefix="baseline")
    store = open_store(settings.home, settings.chroma_url, name)
    pipeline = BaselinePipeline(store, embedder)
    if store.info().get("corpus_hash") != digest:
        if progress:
            progress("indexing baseline", 0, 1)
        pipeline.index(articles)
        store.set_info({"corpus_hash": digest})
    pipeline.answer("warm up")  # latency is measured warm, as newsbot's retriever warms up
    return pipeline


def _stage(progress: Progress | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


__all__ = ["EvalResult", "evaluate", "write_rows"]
