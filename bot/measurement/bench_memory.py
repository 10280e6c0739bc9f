"""`newsbot bench --memory [N ...]`: the indexer's peak memory as the corpus grows.

For each mode (embedded, and against a `chroma run` server started here) and each size N (by
default 1,000 then 10,000 articles), a fresh index is built by a real `newsbot index FOLDER`
child process over N synthetic article files, and the child's peak RSS (its own ru_maxrss, from
wait4) is read. The child embeds with NEWSBOT_FAKE_EMBEDDER (random vectors of MiniLM's size):
the model's ~400 MB is a constant, and the point is what grows with N.

Synthetic articles are made of real sentences from the eval corpus, each article a random draw
of sentences, sized like a real article, so they are distinct (no two fall in one story group,
which repeated texts would) and chunk like news text does.

The embedded/server pair separates the two parts: in embedded mode Chroma's vector (HNSW) index
and its SQLite caches live in the indexer; against a server they live in the server, so the
server-mode indexer's growth is newsbot's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.measurement.bench_scale import MODES

Report = Callable[[str], None]
PER_FILE = 200            # synthetic articles per JSONL file
HNSW_BYTES = 384 * 4 + 2 * 16 * 4  # float32 vector plus level-0 links (M=16) per chunk, at least


def bench_memory(sizes: list[int], corpus: Path, report: Report,
                 modes: tuple[str, ...] = MODES) -> dict:
    """Peak RSS of `newsbot index` over each size, in each mode (embedded, on a server);
    {"runs": [...]}."""
    from bot.measurement.bench_scale import _maybe_server

    runs = []
    for mode in modes:
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix=f"newsbot-memory-{mode}-") as tmp:
                folder = synthesize(corpus, n, Path(tmp) / "articles")
                with _maybe_server(mode, Path(tmp) / "chroma-server") as (url, server_pid):
                    run = index_run(folder, child_env(Path(tmp) / "home", url))
                    if server_pid:
                        run["server_peak_mb"] = peak_mb(server_pid)
            run = {"mode": mode, "articles": n, **run}
            runs.append(run)
            report(_line(run))
    for line in growth_lines(runs):
        report(line)
    return {"runs": runs}


def child_env(home: Path, url: str | None) -> dict:
    """The environment of a product child: its own home, the fake embedder, no entity tagging
    (spaCy would take longer than all the rest; its model's memory does not grow), the server
    if any."""
    env = {**os.environ, "NEWSBOT_HOME": str(home), "NEWSBOT_FAKE_EMBEDDER": "1",
           "NEWSBOT_ENTITIES": "false",
           "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    env.pop("NEWSBOT_CHROMA_URL", None)
    if url:
        env["NEWSBOT_CHROMA_URL"] = url
    return env


def synthesize(corpus: Path, n: int, folder: Path, *, seed: int = 0, start: int = 0) -> Path:
    """n distinct articles of real corpus sentences, as JSONL files under folder."""
    pool, lengths, sources = sentence_pool(corpus)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for first in range(0, n, PER_FILE):
        lines = []
        for i in range(start + first, start + min(n, first + PER_FILE)):
            picked = rng.choice(len(pool), size=lengths[i % len(lengths)], replace=False)
            src = sources[i % len(sources)]
            lines.append(json.dumps({"id": f"synthetic-{i}", "title": f"{src['title']} ({i})",
                                     "source": src["source"], "date": src["date"], "url": None,
                                     "text": " ".join(pool[j] for j in picked)}))
        (folder / f"part-{start + first:07d}.jsonl").write_text("\n".join(lines) + "\n")
    return folder


def sentence_pool(corpus: Path) -> tuple[list[str], list[int], list[dict]]:
    """Every sentence of the corpus, each article's sentence count, and its title/source/date."""
    from index.chunking import split_sentences

    pool, lengths, sources = [], [], []
    for line in corpus.read_text().splitlines():
        record = json.loads(line)
        sentences = [s.text for s in split_sentences(record["text"])]
        pool += sentences
        lengths.append(max(1, len(sentences)))
        sources.append({"title": record.get("title") or "Untitled",
                        "source": record.get("source") or "", "date": record.get("date")})
    return pool, lengths, sources


def index_run(folder: Path, env: dict) -> dict:
    """`newsbot index folder` in a child: its peak RSS (MB), seconds, and the chunks it holds."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bot", "index", str(folder)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    if proc.returncode != 0:
        raise RuntimeError(f"newsbot index failed: {b''.join(errors).decode()[-400:]}")
    seconds = time.perf_counter() - started
    chunks = status_of(env)["chunks"]
    return {"chunks": chunks, "index_s": round(seconds, 1),
            "peak_mb": round(usage.ru_maxrss / 1024, 1)}


def status_of(env: dict) -> dict:
    """`newsbot status --json` in a child, so this process never opens the index."""
    done = subprocess.run([sys.executable, "-m", "bot", "status", "--json"], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def peak_mb(pid: int) -> float:
    """A live process's peak RSS so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def growth_lines(runs: list[dict]) -> list[str]:
    """Per mode: largest over smallest size, in articles, chunks and peak RSS, and MB per 1k
    chunks; then what the embedded indexer grows by beyond the server-mode one."""
    lines, slopes = [], {}
    for mode in MODES:
        mine = sorted((r for r in runs if r["mode"] == mode), key=lambda r: r["articles"])
        if len(mine) < 2:
            continue
        lo, hi = mine[0], mine[-1]
        slope = (hi["peak_mb"] - lo["peak_mb"]) / max(1, hi["chunks"] - lo["chunks"]) * 1000
        slopes[mode] = slope
        lines.append(f"memory {mode:8s} growth {hi['articles']:,}/{lo['articles']:,} articles: "
                     f"chunks x{hi['chunks'] / lo['chunks']:.1f}, peak RSS "
                     f"x{hi['peak_mb'] / lo['peak_mb']:.2f} ({slope:.2f} MB per 1,000 chunks)")
    if len(slopes) == 2:
        lines.append(f"memory: embedded grows {slopes['embedded'] - slopes['server']:.2f} MB per "
                     f"1,000 chunks more than the server-mode indexer (Chroma in process); an "
                     f"HNSW vector index holds at least {HNSW_BYTES * 1000 / 2**20:.2f} MB per "
                     f"1,000 chunks")
    return lines


def _line(run: dict) -> str:
    server = f", chroma server peak {run['server_peak_mb']} MB" if "server_peak_mb" in run else ""
    return (f"memory {run['mode']:8s} {run['articles']:>7,} articles {run['chunks']:>9,} chunks: "
            f"indexer peak RSS {run['peak_mb']} MB in {run['index_s']} s{server}")
