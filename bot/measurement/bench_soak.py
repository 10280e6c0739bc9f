"""`newsbot bench --soak SECONDS`: does a long-running `newsbot watch` grow?

A local news site (real HTTP on 127.0.0.1) publishes new articles all the time, its feeds
changing between polls; a real `newsbot watch` child polls them every POLL_S seconds with the
fake embedder (NEWSBOT_FAKE_EMBEDDER) for SECONDS, embedded and then against a `chroma run`
server. The child's RSS is sampled every SAMPLE_S seconds, with the polls (feed requests) and
article fetches the site has answered so far. After a warm-up (the first WARMUP of the run) a
least-squares line gives MB per 1,000 polls and per 1,000 articles. The part a Chroma vector
index must grow by (chunks x bytes per vector and links) is printed beside it: in embedded mode
it lives in the watcher; against a server it does not, so what the server-mode watcher grows by
is newsbot's own.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.measurement.bench_memory import HNSW_BYTES, child_env, sentence_pool, status_of
from bot.measurement.bench_scale import MODES
from bot.measurement.bench_scale import _rss_mb as rss_mb
from bot.measurement.newsroom import Site, publish, rss_feed, xml

Report = Callable[[str], None]
FEEDS = 4          # feeds on the site, each a source
FEED_ITEMS = 20    # items a feed shows: the newest
POLL_S = 0.25     # each source's interval
PUBLISH_S = 0.25  # a new article on one feed this often
SAMPLE_S = 3.0
WARMUP = 0.25


def bench_soak(seconds: float, corpus: Path, report: Report,
               modes: tuple[str, ...] = MODES) -> dict:
    """A watch child for `seconds` in each mode; {"runs": [...]} with slopes per mode."""
    from bot.measurement.bench_scale import _maybe_server

    runs = []
    for mode in modes:
        with tempfile.TemporaryDirectory(prefix=f"newsbot-soak-{mode}-") as tmp:
            with _maybe_server(mode, Path(tmp) / "chroma-server") as (url, _):
                env = child_env(Path(tmp) / "home", url)
                samples = soak(env, corpus, seconds)
                chunks_per_article = _chunks_per_article(env)
        run = {"mode": mode, "seconds": seconds, **slopes(samples, chunks_per_article),
               "samples": samples}
        runs.append(run)
        report(_line(run))
    return {"runs": runs}


def soak(env: dict, corpus: Path, seconds: float) -> list[dict]:
    """Run the watch child against a publishing site; samples of (t, rss, polls, articles)."""
    pool, lengths, sources = sentence_pool(corpus)
    site = Site("Soak Times").start()
    rng = np.random.default_rng(1)
    feeds: list[list] = [[] for _ in range(FEEDS)]
    counter = iter(range(10**9))

    def publish_one() -> None:
        i = next(counter)
        text = " ".join(pool[j] for j in rng.choice(len(pool), lengths[i % len(lengths)], False))
        src = sources[i % len(sources)]
        record = {"id": f"soak-{i}", "title": f"{src['title']} ({i})", "text": text,
                  "date": src["date"] or "2022-06-01"}
        feed = feeds[i % FEEDS]
        feed[:0] = publish(site, [record])
        del feed[FEED_ITEMS:]
        site.routes.pop(f"/news/soak-{i - FEEDS * FEED_ITEMS * 2}", None)  # long gone from feeds
        site.routes[f"/feed{i % FEEDS}.xml"] = xml(rss_feed(site.name, feed))

    for _ in range(FEEDS):
        publish_one()
    home = Path(env["NEWSBOT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "sources.txt").write_text("".join(f"{site.url(f'/feed{f}.xml')} {POLL_S}s\n"
                                              for f in range(FEEDS)))
    env = {**env, "NEWSBOT_FETCH_DELAY": "0"}
    child = subprocess.Popen([sys.executable, "-m", "bot", "watch"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()

    def publisher() -> None:
        while not stop.wait(PUBLISH_S):
            publish_one()

    threading.Thread(target=publisher, daemon=True).start()
    try:
        return _sample(child, site, seconds)
    finally:
        stop.set()
        child.terminate()
        child.wait(timeout=120)
        site.stop()


def _sample(child: subprocess.Popen, site: Site, seconds: float) -> list[dict]:
    samples, started = [], time.monotonic()
    while time.monotonic() - started < seconds and child.poll() is None:
        time.sleep(SAMPLE_S)
        log = list(site.log)
        if child.poll() is not None:
            break
        samples.append({"t": round(time.monotonic() - started, 1), "rss_mb": rss_mb(child.pid),
                        "polls": sum(1 for p, _ in log if p.startswith("/feed")),
                        "articles": sum(1 for p, s in log if p.startswith("/news") and s == 200)})
    if child.poll() is not None:
        raise RuntimeError(f"newsbot watch ended early (exit {child.returncode})")
    return samples


def slopes(samples: list[dict], chunks_per_article: float) -> dict:
    """RSS at the end of warm-up and at the end, and least-squares MB per 1,000 polls/articles."""
    kept = [s for s in samples if s["t"] >= samples[-1]["t"] * WARMUP]
    rss = np.array([s["rss_mb"] for s in kept])
    out = {"polls": samples[-1]["polls"], "articles": samples[-1]["articles"],
           "chunks_per_article": round(chunks_per_article, 1),
           "rss_start_mb": kept[0]["rss_mb"], "rss_end_mb": kept[-1]["rss_mb"],
           "rss_max_mb": max(s["rss_mb"] for s in samples),
           "hnsw_mb_per_1k_articles": round(chunks_per_article * HNSW_BYTES * 1000 / 2**20, 2)}
    for name in ("polls", "articles"):
        x = np.array([s[name] for s in kept], dtype=float)
        slope = float(np.polyfit(x, rss, 1)[0]) if np.ptp(x) > 0 else float("nan")
        out[f"mb_per_1k_{name}"] = round(slope * 1000, 2)
    return out


def _chunks_per_article(env: dict) -> float:
    status = status_of(env)
    return status["chunks"] / max(1, status["articles"])


def _line(run: dict) -> str:
    return (f"soak {run['mode']:8s} {run['seconds']:.0f} s: {run['polls']:,} polls, "
            f"{run['articles']:,} new articles ({run['chunks_per_article']} chunks each); RSS "
            f"{run['rss_start_mb']} MB after warm-up -> {run['rss_end_mb']} MB (max "
            f"{run['rss_max_mb']}); {run['mb_per_1k_polls']} MB per 1,000 polls, "
            f"{run['mb_per_1k_articles']} MB per 1,000 articles (a vector index needs "
            f"{run['hnsw_mb_per_1k_articles']} MB per 1,000 articles)")

