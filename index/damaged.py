"""SQLite files newsbot keeps beside the index that can be begun again: one that cannot be read
is moved aside (kept, for whoever wants to look) and a new one begun, with one warning."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from index.store import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


def open_or_begin_again(path: Path, open_file: Callable[[Path], T], lost: str) -> T:
    """open_file(path); when SQLite cannot read the file there (random bytes, cut short,
    another program's tables), it is renamed <name>.damaged-<time> and opened anew. lost: what
    beginning again costs, for the warning. A folder in its place is one StoreError line."""
    try:
        return open_file(path)
    except sqlite3.DatabaseError as exc:
        if not path.is_file():
            raise StoreError(f"cannot open {path}: {exc}") from exc
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        path.rename(aside)
        log.warning("%s could not be read (%s); moved it to %s and began a new one: %s",
                    path, exc, aside.name, lost)
        return open_file(path)
