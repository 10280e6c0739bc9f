"""`newsbot bench --scale N [N ...]`: how start-up, memory, latency and freshness grow with the index.

For each size and each mode (embedded, and a `chroma run` server started here) it builds a
synthetic index of N chunks through the product's own write path (real article texts from the
eval corpus, repeated under new ids; random unit vectors instead of embeddings, so building
costs Chroma's time, not the model's), then starts a real bot process and measures: process start
to first answer, RSS, warm latency over 100 questions, and how long an article written while
questions keep coming takes to be answered (in embedded mode the bot's own writer thread
writes it, as `--watch` would; against a server another process does).

The bot and the builder run as child processes (`python -m bot.measurement.bench_scale ...`),
so each figure is a real process's, and an embedded index is never open in two of them at once.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

Report = Callable[[str], None]
COLLECTION = "scale"
FRESH_TOKEN = "Quillmoor"
FRESH_Q = "What was the rover that the Zembla space agency landed on the moon called?"
FRESH_TEXT = ("The Zembla space agency landed a rover named Quillmoor on the moon on Tuesday, "
              "the first such landing for the country. Engineers said the rover would explore a "
              "crater near the south pole for a year.")
FRESH_LIMIT_S = 60.0


MODES = ("embedded", "server")


def bench_scale(sizes: list[int], corpus: Path, questions: Path, report: Report,
                modes: tuple[str, ...] = MODES) -> dict:
    """Every size in each mode; returns {"runs": [...]} with one entry per (mode, size)."""
    from bot.measurement.evaluation import load_questions

    asked = [q.question for q in load_questions(questions)]
    asked = (asked * (100 // max(1, len(asked)) + 1))[:100]
    runs = []
    for n in sizes:
        for mode in modes:
            with tempfile.TemporaryDirectory(prefix=f"newsbot-scale-{mode}-") as tmp:
                run = _one_run(mode, n, corpus, asked, Path(tmp))
            runs.append(run)
            report(_line(run))
    return {"runs": runs}


def _one_run(mode: str, n: int, corpus: Path, asked: list[str], tmp: Path) -> dict:
    home = tmp / "home"
    with _maybe_server(mode, tmp / "chroma-server") as (url, server_pid):
        env = {**os.environ, "NEWSBOT_HOME": str(home), "NEWSBOT_COLLECTION": COLLECTION,
               "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
        env.pop("NEWSBOT_CHROMA_URL", None)
        if url:
            env["NEWSBOT_CHROMA_URL"] = url
        built = json.loads(_child(["build", str(corpus), str(n)], env))
        run = {"mode": mode, "chunks": built["chunks"], "build_s": built["build_s"],
               "keyword_build_s": built["keyword_s"],
               "disk_mb": _du_mb(tmp), "errors": 0}
        run.update(_measure_bot(env, asked, writer_in_bot=url is None))
        if server_pid:
            run["server_rss_mb"] = _rss_mb(server_pid)
    return run


def _measure_bot(env: dict, asked: list[str], *, writer_in_bot: bool) -> dict:
    started = time.perf_counter()
    bot = _Bot(env)
    first = bot.ask(asked[0])
    out = {"first_answer_s": round(time.perf_counter() - started, 2)}
    times = sorted(bot.ask(q)["ms"] for q in asked)
    out |= {"warm_p50_ms": round(_pct(times, 50), 1), "warm_p95_ms": round(_pct(times, 95), 1),
            **bot.rss()}
    out |= _freshness(bot, env, asked, writer_in_bot)
    out["rss_after_mb"] = bot.rss_mb()
    out["errors"] = bot.errors + int("error" in first)
    bot.close()
    return out


def _freshness(bot: _Bot, env: dict, asked: list[str], writer_in_bot: bool) -> dict:
    """Seconds from a new article's write finishing until the bot answers from it (fresh_s),
    the write itself (write_s: embedding and committing one article), the slowest question
    while both went on, when it was asked (slowest_at_s) and when the writer had its model and
    store ready (writer_ready_s), both in seconds after the write began: a slow question before
    writer_ready_s waited on the writer's start-up, one after it on the write."""
    started, began = time.perf_counter(), time.time()
    if writer_in_bot:
        bot.send({"cmd": "write", "text": FRESH_TEXT})
    else:
        def _write() -> None:
            bot.write_times = json.loads(_child(["write", FRESH_TEXT], env))

        writer = threading.Thread(target=_write, daemon=True)
        writer.start()
    slowest, slowest_at, slowest_steps, i = 0.0, 0.0, {}, 0
    while time.perf_counter() - started < FRESH_LIMIT_S:
        for question in (FRESH_Q, asked[i % len(asked)]):
            at = time.time() - began
            reply = bot.ask(question)
            if reply["ms"] > slowest:
                slowest, slowest_at, slowest_steps = reply["ms"], at, reply.get("timings", {})
            if question == FRESH_Q:
                answer = reply
        i += 1
        if FRESH_TOKEN in answer.get("text", ""):
            answered = time.time()
            if not writer_in_bot:
                writer.join(timeout=FRESH_LIMIT_S)
            break
    else:
        answered = None
        bot.errors += 1
    # Wall-clock times from two processes on one machine; an answer that came before the writer
    # had finished deleting the old version counts as 0.
    since = {k: round(t - began, 2) if t and answered else None
             for k, t in bot.write_times.items()}
    written = bot.write_times.get("done") or answered
    return {"fresh_s": round(max(0.0, answered - written), 2) if answered else None,
            "write_s": round(written - began, 2) if answered else None,
            "max_ms_during_fresh": round(slowest, 1),
            "slowest_at_s": round(slowest_at, 2), "slowest_steps_ms": slowest_steps,
            "writer_ready_s": since.get("ready"), "writer_embedded_s": since.get("embedded")}


class _Bot:
    """The bot child: JSON commands on stdin, one JSON reply per line on stdout."""

    def __init__(self, env: dict) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.measurement.bench_scale", "serve"],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.errors = 0
        self.write_times: dict[str, float] = {}  # _timed_write's, from whichever process wrote

    def send(self, command: dict) -> None:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def ask(self, question: str) -> dict:
        self.send({"cmd": "ask", "q": question})
        reply = self._reply()
        self.errors += int("error" in reply)
        return reply

    def rss_mb(self) -> float:
        return self.rss()["rss_mb"]

    def rss(self) -> dict:
        """{"rss_mb", "rss_anon_mb", "rss_file_mb"} of the bot process now."""
        self.send({"cmd": "rss"})
        return self._reply()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)

    def _reply(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the bot process ended")
            reply = json.loads(line)
            if reply.get("kind") != "written":  # the writer thread's notice is not a reply
                return reply
            self.write_times = reply["times"]


# ----- child processes -----

def _child(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", "bot.measurement.bench_scale", *args], env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench child {args[0]} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def build_synthetic(corpus: Path, n: int) -> dict:
    """Write n chunks of the corpus's articles (repeated under new ids) with random vectors."""
    from bot.factories import make_keyword_index, make_store
    from bot.settings import load_settings
    from index.articles import load_path
    from index.chunking import split_sentences
    from index.ingest import IngestReport, store_batch, writing
    from index.limits import CORPUS_LIMITS

    settings = load_settings()
    store = make_store(settings)
    articles = load_path(corpus, CORPUS_LIMITS)
    rng = np.random.default_rng(0)
    report = IngestReport()
    started = time.perf_counter()
    with writing(store):
        for batch in _synthetic_batches(articles, n):
            splits = [(a, split_sentences(a.text)) for a in batch]
            rows = sum(1 + len(s) for _, s in splits)
            vectors = rng.standard_normal((rows, 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            store_batch(splits, vectors, store, report)
            if report.chunks_written >= n:
                break
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    make_keyword_index(settings, store).catch_up(store)
    return {"chunks": report.chunks_written, "build_s": round(build_s, 1),
            "keyword_s": round(time.perf_counter() - started, 1)}


def _synthetic_batches(articles: list, n: int, per_batch: int = 40) -> Iterator[list]:
    round_ = 0
    while True:
        batch = []
        for article in articles:
            batch.append(article.model_copy(update={"id": f"{article.id}-r{round_}"}))
            if len(batch) == per_batch:
                yield batch
                batch = []
        if batch:
            yield batch
        round_ += 1


def write_fresh(text: str) -> None:
    """Another process writes one new article (server mode), with the real embedder."""
    from bot.factories import make_embedder, make_store
    from bot.settings import load_settings

    settings = load_settings()
    store, embedder = make_store(settings), make_embedder(settings)
    embedder.embed_documents(["warm up"])  # the model loaded: what follows is the write itself
    print(json.dumps(_timed_write(store, embedder, text)))


def serve() -> None:
    """The bot: answers {"cmd": "ask"} lines, reports RSS, and writes when told (embedded)."""
    from bot.factories import build_answerer, make_embedder, make_store
    from bot.settings import load_settings

    settings = load_settings()
    store = make_store(settings)
    embedder = make_embedder(settings)
    answerer = build_answerer(settings, store=store, embedder=embedder, follow=True)
    if not settings.chroma_url:  # the writer here, as `--watch` is: its model loads beside serving
        store.claim_writer(hold=True)
        threading.Thread(target=embedder.embed_documents, args=(["warm up"],), daemon=True).start()
    lock = threading.Lock()

    def say(obj: dict) -> None:
        with lock:
            print(json.dumps(obj), flush=True)

    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "ask":
            started = time.perf_counter()
            try:
                answer = answerer.answer(command["q"])
                say({"ms": (time.perf_counter() - started) * 1000, "text": answer.answer[:300],
                     "timings": answer.timings_ms})
            except Exception as exc:  # a figure, not a crash: counted as an error
                say({"ms": (time.perf_counter() - started) * 1000, "error": str(exc)[:200]})
        elif command["cmd"] == "rss":
            say(_rss(os.getpid()))
        elif command["cmd"] == "write":
            threading.Thread(target=_write_here, args=(store, embedder, command["text"], say),
                             daemon=True).start()


def _write_here(store, embedder, text: str, say: Callable[[dict], None]) -> None:
    """The serving process's own writer (embedded mode allows no other; its model loaded at
    start-up)."""
    say({"kind": "written", "times": _timed_write(store, embedder, text)})


def _timed_write(store, embedder, text: str) -> dict[str, float]:
    """Write the fresh article; when the writer was ready, had embedded (the model's work done,
    the store's next) and was done (commit and cleanup)."""
    from index.articles import make_article
    from index.ingest import write_articles

    article = make_article(text, "bench-fresh", id="bench-fresh", title="Zembla lands on the moon")
    ready = time.time()
    clock = _EmbedClock(embedder)
    write_articles([article], store, clock)
    return {"ready": ready, "embedded": clock.last, "done": time.time()}


class _EmbedClock(Embeddings):
    """An embedder that notes when its last call ended: the write's model work, before the
    store's."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner, self.last = inner, time.time()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """The inner embedder's vectors, timed."""
        out = self.inner.embed_documents(texts)
        self.last = time.time()
        return out

    def embed_query(self, text: str) -> list[float]:
        """The inner embedder's query vector, timed."""
        out = self.inner.embed_query(text)
        self.last = time.time()
        return out


# ----- helpers -----

@contextmanager
def _maybe_server(mode: str, data: Path) -> Iterator[tuple[str | None, int | None]]:
    if mode != "server":
        yield None, None
        return
    chroma = Path(sys.executable).parent / "chroma"
    chroma = chroma if chroma.exists() else Path(shutil.which("chroma") or "chroma")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/v2/heartbeat", proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_for(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("chroma run did not come up within 60 s")


def _rss_mb(pid: int) -> float:
    return _rss(pid)["rss_mb"]


def _rss(pid: int) -> dict[str, float]:
    """A process's resident memory in MB: all of it (rss_mb), the part that is its own heap
    (rss_anon_mb) and the pages of files it maps (rss_file_mb: Chroma's SQLite and index files,
    the model; the kernel can drop and re-read those)."""
    fields = {"VmRSS": "rss_mb", "RssAnon": "rss_anon_mb", "RssFile": "rss_file_mb"}
    out = dict.fromkeys(fields.values(), 0.0)
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            out[fields[name]] = round(int(value.split()[0]) / 1024, 1)
    return out


def _du_mb(folder: Path) -> float:
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return round(total / 2**20, 1)


def _pct(sorted_values: list[float], p: float) -> float:
    k = (len(sorted_values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def _line(run: dict) -> str:
    fresh = (f"{run['fresh_s']} s after its write ({run['write_s']} s)"
             if run["fresh_s"] is not None else "not within 60 s")
    return (f"scale {run['mode']:8s} {run['chunks']:>9,} chunks: build {run['build_s']} s "
            f"(+ keywords {run['keyword_build_s']} s), disk {run['disk_mb']} MB, first answer "
            f"{run['first_answer_s']} s, RSS {run['rss_mb']} MB ({run.get('rss_anon_mb')} heap, "
            f"{run.get('rss_file_mb')} mapped files), warm p50/p95 "
            f"{run['warm_p50_ms']}/{run['warm_p95_ms']} ms, new article answered in {fresh} "
            f"(slowest question meanwhile {run['max_ms_during_fresh']} ms, asked "
            f"{run.get('slowest_at_s')} s after the write began, steps {run.get('slowest_steps_ms')};"
            f" the writer was ready at {run.get('writer_ready_s')} s and had embedded at "
            f"{run.get('writer_embedded_s')} s), errors {run['errors']}"
            + (f", chroma server RSS {run['server_rss_mb']} MB" if "server_rss_mb" in run else ""))


def main(argv: list[str] | None = None) -> int:
    """The child processes: build CORPUS N | write TEXT | serve."""
    parser = argparse.ArgumentParser(prog="python -m bot.measurement.bench_scale")
    parser.add_argument("command", choices=["build", "write", "serve"])
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(json.dumps(build_synthetic(Path(args.args[0]), int(args.args[1]))))
    elif args.command == "write":
        write_fresh(args.args[0])
    else:
        serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
