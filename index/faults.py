"""Named crash points, for tests that kill a real ingest between two steps of a write.

``NEWSBOT_CRASH_AT=after-commit`` (or ``after-commit:3``, the third pass) makes the process
SIGKILL itself there: no cleanup runs, exactly as with ``kill -9``. Unset, a point costs one
dictionary lookup.
"""

from __future__ import annotations

import os
import signal

_passes: dict[str, int] = {}


def point(name: str) -> None:
    """Die here if NEWSBOT_CRASH_AT names this point (and this pass)."""
    wanted = os.environ.get("NEWSBOT_CRASH_AT")
    if not wanted:
        return
    target, _, nth = wanted.partition(":")
    if target != name:
        return
    _passes[name] = _passes.get(name, 0) + 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
