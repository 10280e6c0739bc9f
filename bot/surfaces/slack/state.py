"""Exactly-once memory that survives restarts and is shared by every bot process on one host.

One SQLite file (WAL mode) of expiring key/value rows. A claim is a single INSERT that only
succeeds for a key no live row holds, so of any number of threads and processes that claim the
same key at once, SQLite lets exactly one win. Rows expire; expired rows are purged now and then.

SQLite's locking needs a local filesystem: replicas on several hosts cannot share this file
(a network share's locks are not reliable). `Namespace` is the whole interface the Slack code
uses, so a store every host reaches can replace this class without touching the listeners.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.errors import ConfigError

log = logging.getLogger(__name__)
PURGE_EVERY_S = 600.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT NOT NULL,
                                    expires REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_expires ON entries (expires);
"""
CLAIM = """INSERT INTO entries (key, value, expires) VALUES (?, 'true', ?)
           ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
           WHERE entries.expires <= ?"""
PUT = """INSERT INTO entries (key, value, expires) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires"""


class SharedState:
    """Expiring claims and JSON values in one SQLite file, safe across threads and processes."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time,
                 busy_timeout_s: float = 10.0) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._db = _connect(path, busy_timeout_s)
        self._next_purge = 0.0

    def claim(self, key: str, ttl_s: float) -> bool:
        """True for the one caller (of all threads and processes) that claims a live-free key."""
        now = self._clock()
        with self._lock:
            self._maybe_purge(now)
            return self._db.execute(CLAIM, (key, now + ttl_s, now)).rowcount == 1

    def put(self, key: str, value: object, ttl_s: float) -> None:
        """Store a JSON-serialisable value under key, replacing any earlier one."""
        now = self._clock()
        with self._lock:
            self._maybe_purge(now)
            self._db.execute(PUT, (key, json.dumps(value), now + ttl_s))

    def get(self, key: str) -> object | None:
        """The value stored under key, or None when there is none or it expired."""
        with self._lock:
            row = self._db.execute("SELECT value FROM entries WHERE key = ? AND expires > ?",
                                   (key, self._clock())).fetchone()
        return None if row is None else json.loads(row[0])

    def purge(self) -> int:
        """Delete expired rows; returns how many."""
        with self._lock:
            return self._purge(self._clock())

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def _maybe_purge(self, now: float) -> None:
        if now >= self._next_purge:
            self._purge(now)

    def _purge(self, now: float) -> int:
        self._next_purge = now + PURGE_EVERY_S
        removed = self._db.execute("DELETE FROM entries WHERE expires <= ?", (now,)).rowcount
        if removed:
            log.debug("purged %d expired Slack state rows", removed)
        return removed


class Namespace:
    """One kind of key in a SharedState, with one lifetime: claim, put and get by any key."""

    def __init__(self, state: SharedState, prefix: str, ttl_s: float) -> None:
        self.state, self.prefix, self.ttl_s = state, prefix, ttl_s

    def claim(self, key: object) -> bool:
        """True the first time the key is claimed (by anyone) within the lifetime."""
        return self.state.claim(self._key(key), self.ttl_s)

    def put(self, key: object, value: object) -> None:
        """Remember a JSON-serialisable value for the lifetime."""
        self.state.put(self._key(key), value, self.ttl_s)

    def get(self, key: object, default: object = None) -> object:
        """The value if it is still remembered, else default."""
        value = self.state.get(self._key(key))
        return default if value is None else value

    def _key(self, key: object) -> str:
        parts = key if isinstance(key, tuple) else (key,)
        return self.prefix + ":" + "|".join(str(p) for p in parts)


def open_state(path: Path) -> SharedState:
    """Open (creating, mode 0600) the state file, or a one-line ConfigError naming it."""
    try:
        return SharedState(path)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"cannot open the Slack state file {path} ({exc}).") from exc


def _connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # questions and answers are kept here: owner-only, and SQLite gives its -wal/-shm files
    # the database file's mode
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    db = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None,
                         check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    # NORMAL: a commit is in the WAL before the call returns, so a killed process loses
    # nothing; only a power cut could drop the last few commits
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db
