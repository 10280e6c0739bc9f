"""`newsbot bench`: peak memory and wall time of `newsbot index` over the hostile corpus.

Each figure comes from a child process of its own (its ru_maxrss, from wait4), beside the same
figures for indexing seeds/ in the same run: the cost of a process that loads the model and
indexes one ordinary article.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bot.measurement.fuzz_corpus import build_hostile_corpus

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def bench_hostile_index(report: Callable[[str], None]) -> dict:
    """Index the hostile corpus and seeds/ in fresh processes; report time and peak memory."""
    with tempfile.TemporaryDirectory() as tmp:
        corpus = build_hostile_corpus(Path(tmp))
        hostile_s, hostile_mb = measure_index(corpus.root, Path(tmp) / "home", corpus.env)
        seeds_s, seeds_mb = measure_index(SEEDS, Path(tmp) / "seed-home", {})
    report(f"index of the hostile corpus ({len(corpus.good_ids)} good records, "
           f"{len(corpus.skipped)} bad cases): {hostile_s:.1f} s, peak {hostile_mb:.0f} MB · "
           f"seeds/ {seeds_s:.1f} s, peak {seeds_mb:.0f} MB · ratio {hostile_s / seeds_s:.2f} "
           f"time, {hostile_mb / seeds_mb:.2f} memory")
    return {"hostile_index_s": round(hostile_s, 2), "hostile_index_peak_mb": round(hostile_mb),
            "seeds_index_s": round(seeds_s, 2), "seeds_index_peak_mb": round(seeds_mb)}


def measure_index(folder: Path, home: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of one `newsbot index folder` process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bot", "index", str(folder)],
                             env={**os.environ, "NEWSBOT_HOME": str(home), "HF_HUB_OFFLINE": "1",
                                  **env},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"newsbot index {folder} exited {child.returncode}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports KB
