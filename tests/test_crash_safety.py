"""kill -9 at any moment of an ingest leaves an index the next run repairs (real processes).

After every kill: each served article is whole (all chunks of the version its manifest row
names) and is entirely one version, old or new; after the next clean run, every article is
the new version and no chunk of any other version is left.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.locking import command_name
from tests.conftest import ROOT

# Long enough for 1,000+ chunks, so the article's chunks are written in two Chroma calls.
BIG = 1100


def _text(tag: str, n: int) -> str:
    return " ".join(f"Report {tag} line {i} tells of {tag} events in the city." for i in range(n))


def _corpus(folder: Path, tag: str, *, big: int = BIG, extra: bool = False) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    texts = {"big": _text(tag, big), "small": _text(tag, 12), "mid": _text(tag, 60)}
    if extra:
        texts["late"] = _text(tag, 30)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(f"Title {name}\n{text}")
    return texts


def _child(*args: str, crash_at: str | None = None,
           kill_after: float | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NEWSBOT_CRASH_AT", None)
    if crash_at:
        env["NEWSBOT_CRASH_AT"] = crash_at
    proc = subprocess.Popen([sys.executable, "-m", "tests.ingest_child", *args], env=env,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err, err.decode()
    return subprocess.CompletedProcess(args, proc.returncode, out.decode(), err.decode())


def _run(home: Path, docs: Path, *, crash_at: str | None = None, prune: bool = False,
         kill_after: float | None = None) -> int:
    args = ["index", str(home), str(docs)] + (["--prune"] if prune else [])
    return _child(*args, crash_at=crash_at, kill_after=kill_after).returncode


def _read(home: Path) -> dict:
    """What a new reader process is served; it fails if any article is missing chunks."""
    done = _child("read", str(home))
    assert done.returncode == 0, done.stdout
    return json.loads(done.stdout)


def _served(home: Path) -> dict[str, str]:
    return _read(home)["texts"]


def _assert_each_is_one_version(served: dict[str, str]) -> None:
    for article_id, text in served.items():
        tags = {tag for tag in ("old", "new") if f"Report {tag} " in text}
        assert len(tags) == 1, f"{article_id} mixes versions"


def _assert_clean(home: Path, expected: dict[str, str]) -> None:
    state = _read(home)
    assert set(state["texts"]) == set(expected)
    assert state["rows"] == state["chunks"]  # no chunk of any other version is left
    for text in state["texts"].values():
        assert "Report new " in text and "Report old " not in text


@pytest.mark.parametrize("point", ["after-pending", "between-chunk-batches", "after-commit",
                                   "after-delete"])
def test_a_kill_at_each_step_of_a_write_is_repaired_by_the_next_run(tmp_path, point):
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, "old")
    assert _run(home, docs) == 0
    new = _corpus(docs, "new", big=BIG + 7, extra=True)  # every article edited, one added
    assert _run(home, docs, crash_at=point) == -signal.SIGKILL
    served = _served(home)
    assert {"big", "small", "mid"} <= set(served)  # nothing that was served is lost
    _assert_each_is_one_version(served)
    assert _run(home, docs) == 0
    _assert_clean(home, new)


def test_a_kill_after_a_deletion_is_committed_is_repaired(tmp_path):
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, "new", big=30)
    assert _run(home, docs) == 0
    (docs / "mid.txt").unlink()
    assert _run(home, docs, crash_at="after-tombstone", prune=True) == -signal.SIGKILL
    assert "mid" not in _served(home)
    assert _run(home, docs, prune=True) == 0
    _assert_clean(home, {"big": "", "small": ""})


def test_kills_at_random_moments_never_leave_a_broken_or_mixed_index(tmp_path):
    home, docs = tmp_path / "home", tmp_path / "docs"
    _corpus(docs, "old", big=1500)
    started = time.monotonic()
    assert _run(home, docs) == 0
    whole_run = time.monotonic() - started  # each round rewrites every article: about as long
    rng = random.Random(7)
    killed = 0
    for round_ in range(8):
        tag = "new" if round_ % 2 == 0 else "old"
        _corpus(docs, tag, big=1500 + round_, extra=round_ % 3 == 0)
        if _run(home, docs, kill_after=rng.uniform(0.3, 0.9) * whole_run) == -signal.SIGKILL:
            killed += 1
        _assert_each_is_one_version(_served(home))
    assert killed >= 4  # most runs were really cut short
    new = _corpus(docs, "new", big=1501)
    for stale in set(p.stem for p in docs.glob("*.txt")) - set(new):
        (docs / f"{stale}.txt").unlink()
    assert _run(home, docs, prune=True) == 0
    _assert_clean(home, new)


@pytest.mark.parametrize("argv, named", [
    (["/repo/bot/__main__.py", "index", "docs"], "newsbot index"),  # python -m bot index
    (["/repo/.venv/bin/newsbot", "watch"], "newsbot watch"),
    (["/usr/bin/pytest", "-q"], "pytest"),
    (["/venv/bin/python", "-m", "bot", "chat"], "newsbot chat"),  # read from /proc
])
def test_the_writer_is_named_as_the_user_started_it(argv, named):
    # Seen by an outside probe: "being written by __main__.py, pid N" under python -m bot.
    assert command_name(argv) == named


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="the kernel lists no locks here")
def test_a_refusal_names_the_process_that_holds_the_index_not_the_last_writer(tmp_path):
    # Seen by two outside probes: with `chat` reading the index, `index` said it was open in
    # "newsbot index, pid N", the last writer's record, a process long gone.
    home = tmp_path / "home"
    env = {**os.environ, "NEWSBOT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    run = [sys.executable, "-m", "bot"]
    subprocess.run([*run, "index", str(ROOT / "seeds")], env=env, cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    chat = subprocess.Popen([*run, "chat"], env=env, cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while f" {chat.pid} " not in Path("/proc/locks").read_text():
            assert time.monotonic() < deadline and chat.poll() is None
            time.sleep(0.2)
        refused = subprocess.run([*run, "index", str(ROOT / "seeds")], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=300)
    finally:
        chat.communicate(b":quit\n", timeout=60)
    assert refused.returncode == 1
    assert f"open in another newsbot process (newsbot chat, pid {chat.pid})" in refused.stderr
