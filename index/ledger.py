"""What newsbot remembers between fetches, in one SQLite file under NEWSBOT_HOME.

- per URL: the ETag / Last-Modified of the version last processed (for conditional GET), and
  for a feed entry a mark of the entry as the feed last showed it (so an unchanged entry is not
  fetched again), plus the article id it became;
- per source: last success, last error, articles indexed from it.

Validators are written only after what they describe has been indexed, so an interrupted run
fetches it again instead of skipping it.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from index.damaged import open_or_begin_again
from index.fetch import Validators
from index.store import now_iso

_SCHEMA = """
create table if not exists urls (url text primary key, etag text not null default '',
  last_modified text not null default '', mark text not null default '',
  article_id text not null default '', seen text not null default '');
create table if not exists sources (url text primary key, last_success text not null default '',
  last_error text not null default '', error_at text not null default '',
  articles integer not null default 0, last_attempt real not null default 0);
create table if not exists store (id integer primary key check (id = 1),
  epoch text not null default '', seq integer not null default 0);
"""


@dataclass(frozen=True)
class SourceState:
    """How one source has fared."""

    url: str
    last_success: str = ""
    last_error: str = ""
    error_at: str = ""
    articles: int = 0
    last_attempt: float = 0.0  # time.time() of the last poll, for intervals


class Ledger:
    """Thread-safe access to the fetch ledger (a watch thread and a serving thread may share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def validators(self, url: str) -> Validators | None:
        """The remembered ETag / Last-Modified of url, if any."""
        row = self._one("select etag, last_modified from urls where url = ?", url)
        return Validators(*row) if row and any(row) else None

    def mark(self, url: str) -> tuple[str, str] | None:
        """(entry mark, article id) remembered for url, if it was indexed before."""
        row = self._one("select mark, article_id from urls where url = ?", url)
        return (row[0], row[1]) if row and row[1] else None

    def remember(self, url: str, validators: Validators | None = None, *, mark: str = "",
                 article_id: str = "") -> None:
        """Record what was processed for url (keeping fields not given)."""
        v = validators or Validators()
        self._run("insert into urls (url, etag, last_modified, mark, article_id, seen) "
                  "values (?, ?, ?, ?, ?, ?) on conflict(url) do update set "
                  "etag = excluded.etag, last_modified = excluded.last_modified, "
                  "mark = coalesce(nullif(excluded.mark, ''), mark), "
                  "article_id = coalesce(nullif(excluded.article_id, ''), article_id), "
                  "seen = excluded.seen", url, v.etag, v.last_modified, mark, article_id, now_iso())

    def follow_store(self, epoch: str, seq: int) -> bool:
        """Note the store's epoch and commit number; when it is another store, or went back
        (wiped, or restored from an older backup), forget every URL's validators and marks, so
        what the store lacks is fetched again instead of being skipped as unchanged. True when
        it forgot."""
        with self._lock:
            row = self._db.execute("select epoch, seq from store").fetchone()
            forget = row is not None and (row[0] != epoch or seq < row[1])
            if forget:
                self._db.execute("delete from urls")
                self._db.execute("update sources set articles = 0")
            self._db.execute("insert into store (id, epoch, seq) values (1, ?, ?) on conflict(id) "
                             "do update set epoch = excluded.epoch, seq = excluded.seq",
                             (epoch, seq))
        return forget

    def source(self, url: str) -> SourceState:
        """The state of one source (a blank one if it was never polled)."""
        row = self._one("select url, last_success, last_error, error_at, articles, last_attempt "
                        "from sources where url = ?", url)
        return SourceState(*row) if row else SourceState(url)

    def record_poll(self, url: str, started: float, *, error: str = "", articles: int = 0) -> None:
        """Record one poll of a source: a success (adding its new articles) or an error."""
        self._run("insert or ignore into sources (url) values (?)", url)
        if error:
            self._run("update sources set last_error = ?, error_at = ?, last_attempt = ? "
                      "where url = ?", error, now_iso(), started, url)
        else:
            self._run("update sources set last_success = ?, articles = articles + ?, "
                      "last_attempt = ? where url = ?", now_iso(), articles, started, url)

    def _one(self, sql: str, *args: object) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _run(self, sql: str, *args: object) -> None:
        with self._lock:
            self._db.execute(sql, args)


def open_ledger(home: Path) -> Ledger:
    """The ledger under NEWSBOT_HOME; a damaged one is begun again (what it remembered is
    fetched again, and the store finds it unchanged)."""
    return open_or_begin_again(home / "live.sqlite", Ledger,
                               "pages and feeds are fetched again in full once")
