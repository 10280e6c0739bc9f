"""Does a Chroma server stall its readers while it writes its vector index to disk?

Outside newsbot: a `chroma run` server gets N random 384-dimension vectors, then queries run in a
loop for SECONDS while a writer adds ADD_BATCH vectors every ADD_EVERY_S (a watch ingesting an
article of about 17 chunks at a time). Chroma writes its HNSW index to disk every
`sync_threshold` added vectors (1,000 by default); the slow queries and adds show how long the
readers wait then, and how that grows with N.

Before that, it times the write that pays for the vectors added since the last checkpoint:
Chroma keeps up to sync_threshold - 1 of them in its log only, and the first write after a
server's first read of the collection re-applies them to the index, queries waiting meanwhile.
The probe leaves the longest tail that one more vector does not checkpoint (sync_threshold - 2
vectors), reads once and writes one vector (first_write_after_read_ms). Run `python -m
bot.measurement.chroma_stall N SECONDS [SYNC_THRESHOLD]`; README "Scale" has the figures.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

DIM = 384
CHROMA_SYNC_THRESHOLD = 1000  # Chroma's default
ADD_BATCH = 17
ADD_EVERY_S = 0.2
BUILD_BATCH = 4000
SLOW_S = 0.15


def probe(n: int, seconds: float, sync_threshold: int | None = None) -> dict:
    """Build n vectors on a fresh server, then time queries and adds side by side."""
    import chromadb
    from chromadb.config import Settings

    from bot.measurement.bench_scale import _maybe_server

    with tempfile.TemporaryDirectory(prefix="chroma-stall-") as tmp, \
            _maybe_server("server", Path(tmp)) as (url, _):
        host, port = url.rsplit("//", 1)[1].split(":")
        client = chromadb.HttpClient(host=host, port=int(port),
                                     settings=Settings(anonymized_telemetry=False))
        hnsw = {"space": "cosine", **({"sync_threshold": sync_threshold} if sync_threshold else {})}
        col = client.get_or_create_collection("probe", configuration={"hnsw": hnsw})
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        for first in range(0, n, BUILD_BATCH):
            size = min(BUILD_BATCH, n - first)
            col.add(ids=[f"i{first + j}" for j in range(size)],
                    embeddings=rng.standard_normal((size, DIM)).astype(np.float32))
        build_s = time.perf_counter() - started
        replay_ms = _first_write_after_read(col, sync_threshold or CHROMA_SYNC_THRESHOLD, rng)
        queries, adds = _side_by_side(col, seconds)
    return {"vectors": n, "build_s": round(build_s, 1), "first_write_after_read_ms": replay_ms,
            "queries": _summary(queries), "adds": _summary(adds)}


def _first_write_after_read(col, threshold: int, rng: np.random.Generator) -> float:
    """Milliseconds of one add after a tail of threshold - 2 unsaved vectors and a read (one
    more would make the add a checkpoint too, which the side-by-side part times)."""
    tail = threshold - 2
    col.add(ids=[f"t{j}" for j in range(tail)],
            embeddings=rng.standard_normal((tail, DIM)).astype(np.float32))
    col.query(query_embeddings=rng.standard_normal((1, DIM)).tolist(), n_results=30)
    started = time.perf_counter()
    col.add(ids=["t-last"], embeddings=rng.standard_normal((1, DIM)).astype(np.float32))
    return round((time.perf_counter() - started) * 1000, 1)


def _side_by_side(col, seconds: float) -> tuple[list, list]:
    """(start, seconds) of every query and every add while both run for `seconds`."""
    stop = time.time() + seconds
    queries: list[tuple[float, float]] = []
    adds: list[tuple[float, float]] = []

    def write() -> None:
        rng, k = np.random.default_rng(1), 0
        while time.time() < stop:
            began = time.time()
            col.add(ids=[f"w{k}-{j}" for j in range(ADD_BATCH)],
                    embeddings=rng.standard_normal((ADD_BATCH, DIM)).astype(np.float32))
            adds.append((began, time.time() - began))
            k += 1
            time.sleep(ADD_EVERY_S)

    writer = threading.Thread(target=write)
    writer.start()
    rng = np.random.default_rng(2)
    while time.time() < stop:
        began = time.time()
        col.query(query_embeddings=rng.standard_normal((1, DIM)).tolist(), n_results=30)
        queries.append((began, time.time() - began))
    writer.join()
    return queries, adds


def _summary(timed: list[tuple[float, float]]) -> dict:
    ms = np.array([d for _, d in timed]) * 1000
    t0 = timed[0][0]
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "max_ms": round(float(ms.max()), 1),
            "slow": [(round(t - t0, 1), round(d * 1000)) for t, d in timed if d > SLOW_S]}


if __name__ == "__main__":
    args = sys.argv[1:]
    print(probe(int(args[0]), float(args[1]), int(args[2]) if len(args) > 2 else None))
