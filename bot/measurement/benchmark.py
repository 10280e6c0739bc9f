"""`newsbot bench`: speed figures, each against a baseline measured in the same run.

- ingest throughput (chunks/s) vs raw SentenceTransformer.encode of the same chunk texts;
- re-index time of an unchanged corpus;
- warm ask latency p50/p95 vs the baseline tutorial chain on the same questions;
- cold `newsbot ask` wall time vs the bare import of torch + sentence-transformers;
- Slack HTTP mode: ack latency and resets for 50 and 200 concurrent events (bench_slack.py).
- peak memory and wall time of indexing the hostile corpus vs indexing seeds/ (bench_fuzz.py).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from bot.answering.answer import Answerer
from bot.measurement.bench_slack import bench_slack
from bot.measurement.eval_runner import load_corpus, prepare_baseline, prepare_index
from bot.measurement.evaluation import percentile, load_questions
from bot.settings import Settings
from index.chunking import split_article
from index.ingest import ingest
from index.limits import CORPUS_LIMITS
from index.connection import open_store
from index.store import ChunkStore

Report = Callable[[str], None]
SAMPLE = "How many US troops are in Korea?"


def run_bench(settings: Settings, corpus: Path, questions: Path, *, embedder: Embeddings,
              answerer_factory: Callable[[ChunkStore], Answerer], ingest_limit: int,
              report: Report) -> dict:
    """Measure everything and report each figure as it is known; returns all figures."""
    figures: dict = {}
    figures.update(bench_ingest(corpus, embedder, ingest_limit, report))
    store = prepare_index(settings, corpus, embedder, None)
    figures.update(bench_reindex(corpus, store, embedder, report))
    figures.update(bench_latency(settings, corpus, questions, store, embedder, answerer_factory,
                                 report))
    figures.update(bench_seed_latency(embedder, answerer_factory, report))
    figures.update(bench_cold_start(report))
    figures.update(bench_slack(embedder, answerer_factory, report))
    from bot.measurement.bench_fuzz import bench_hostile_index

    figures.update(bench_hostile_index(report))
    return figures


def bench_ingest(corpus: Path, embedder: Embeddings, limit: int, report: Report) -> dict:
    """Our ingest vs raw encode of the same chunks, on the first `limit` articles."""
    articles = load_corpus(corpus)[:limit]
    chunk_texts = [c.text for a in articles for c in split_article(a)]
    model = embedder.model  # the SentenceTransformer itself
    model.encode(chunk_texts[:32])  # warm
    started = time.perf_counter()
    model.encode(chunk_texts, batch_size=64, show_progress_bar=False)
    raw = len(chunk_texts) / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "subset.jsonl"
        subset.write_text("\n".join(a.model_dump_json(include={"id", "title", "source", "url",
                                                               "date", "text"})
                                    for a in articles))
        started = time.perf_counter()
        done = ingest([subset], open_store(Path(tmp) / "home", None, "bench"), embedder)
        ours = done.chunks_written / (time.perf_counter() - started)
    report(f"ingest: {len(articles)} articles, {len(chunk_texts)} chunks · newsbot "
           f"{ours:.1f} chunks/s vs raw encode {raw:.1f} chunks/s · ratio {ours / raw:.2f}")
    return {"ingest_articles": len(articles), "ingest_chunks": len(chunk_texts),
            "ingest_chunks_per_s": round(ours, 1), "raw_encode_chunks_per_s": round(raw, 1),
            "ingest_ratio": round(ours / raw, 3)}


def bench_reindex(corpus: Path, store: ChunkStore, embedder: Embeddings, report: Report) -> dict:
    """Re-index of the unchanged corpus (everything already stored)."""
    started = time.perf_counter()
    done = ingest([corpus], store, embedder, limits=CORPUS_LIMITS)
    seconds = time.perf_counter() - started
    report(f"re-index unchanged: {len(done.unchanged)} articles in {seconds:.2f} s "
           f"({done.chunks_written} chunks written)")
    return {"reindex_unchanged_s": round(seconds, 3), "reindex_articles": len(done.unchanged)}


def bench_latency(settings: Settings, corpus: Path, questions: Path, store: ChunkStore,
                  embedder: Embeddings, answerer_factory: Callable[[ChunkStore], Answerer],
                  report: Report) -> dict:
    """Warm per-question latency of `ask`'s chain vs the baseline chain, same questions."""
    qs = [q.question for q in load_questions(questions)]
    answerer = answerer_factory(store)
    baseline = prepare_baseline(settings, corpus, load_corpus(corpus), embedder, None)
    ours = _latencies(lambda q: answerer.answer(q), qs)
    theirs = _latencies(lambda q: baseline.answer(q), qs)
    out = {"ask_ms_p50": percentile(ours, 50), "ask_ms_p95": percentile(ours, 95),
           "baseline_ms_p50": percentile(theirs, 50), "baseline_ms_p95": percentile(theirs, 95)}
    report(f"warm ask over {len(qs)} questions: p50 {out['ask_ms_p50']} ms, p95 "
           f"{out['ask_ms_p95']} ms · baseline p50 {out['baseline_ms_p50']} ms, p95 "
           f"{out['baseline_ms_p95']} ms · ratio p50 "
           f"{out['ask_ms_p50'] / out['baseline_ms_p50']:.2f}")
    return out


SEED_QUESTIONS = [SAMPLE, "What is the size of the American military presence on the Korean peninsula?",
                  "How many South Korean soldiers are there?", "Who is South Korea's defense minister?",
                  "Who won the 2018 FIFA World Cup?", "When will the Security Consultative Meeting be held?"]


def bench_seed_latency(embedder: Embeddings, answerer_factory: Callable[[ChunkStore], Answerer],
                       report: Report, rounds: int = 10) -> dict:
    """Warm ask latency over the seed corpus (the index `make run` builds)."""
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp), None, "bench-seeds")
        ingest([seeds], store, embedder)
        answerer = answerer_factory(store)
        times = _latencies(lambda q: answerer.answer(q), SEED_QUESTIONS * rounds)
    out = {"seed_ask_ms_p50": percentile(times, 50), "seed_ask_ms_p95": percentile(times, 95)}
    report(f"warm ask over the seed corpus ({len(times)} questions): p50 "
           f"{out['seed_ask_ms_p50']} ms, p95 {out['seed_ask_ms_p95']} ms")
    return out


def bench_cold_start(report: Report, runs: int = 3) -> dict:
    """Wall time of a fresh `newsbot ask` process vs a bare `import torch, sentence_transformers`."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "NEWSBOT_HOME": tmp, "HF_HUB_OFFLINE": "1"}
        seeds = Path(__file__).resolve().parents[2] / "seeds"
        subprocess.run([sys.executable, "-m", "bot", "index", str(seeds)], env=env, check=True,
                       capture_output=True)
        ask = _wall([sys.executable, "-m", "bot", "ask", SAMPLE], env, runs)
        imports = _wall([sys.executable, "-c", "import torch, sentence_transformers"], env, runs)
    report(f"cold ask: {ask:.2f} s vs bare import of torch + sentence-transformers {imports:.2f} s"
           f" · ratio {ask / imports:.2f}")
    return {"cold_ask_s": round(ask, 2), "bare_import_s": round(imports, 2)}


def _latencies(fn: Callable[[str], object], questions: list[str]) -> list[float]:
    fn(questions[0])  # warm
    out = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def _wall(cmd: list[str], env: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
