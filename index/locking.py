"""Who may use an index at once: one writer, and no readers beside it where Chroma is embedded.

Embedded Chroma cannot be shared with a writer: a client in another process fails on ids it has
not seen ("Error finding id") and misses metadata changes. So an embedded index takes an advisory
lock file: readers share it, a writer holds it alone. A Chroma server is shared by any number of
readers; its one writer holds a lease row in the store (see ChunkStore.claim_writer).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LOCK_NAME = "newsbot.lock"
OWNER_NAME = "newsbot.owner"


def one_per_folder(registry: dict, folder: Path, make: Callable[[Path], T]) -> T:
    """The process's one object for a folder, made on first use: flock locks and tantivy's
    writer lock belong to an open file, so two objects in one process would lock each other out."""
    key = str(folder.resolve())
    if key not in registry:
        registry[key] = make(folder)
    return registry[key]


class LockError(Exception):
    """The index is in use in a way that forbids what was asked; the message names the safe setup."""


class IndexLock:
    """An flock on <index dir>/newsbot.lock, shared for reading and exclusive for writing.

    One per folder and process: flock locks belong to an open file, so two objects in one process
    would lock each other out.
    """

    _open: dict[str, IndexLock] = {}

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        self.mode = 0
        self.users = 0  # stores in this process that have the folder open
        self.hold_exclusive = False  # set by a serving writer (--watch): never step down

    @classmethod
    def for_folder(cls, folder: Path) -> IndexLock:
        """The process's one lock object for this folder."""
        return one_per_folder(cls._open, folder, cls)

    def share(self) -> None:
        """Take the lock for reading, or raise LockError if a writer holds it."""
        if self.mode:
            self.users += 1
            return
        if not self._try(fcntl.LOCK_SH):
            raise LockError(f"the index at {self.folder} is being written by {self.owner()}. "
                            "An embedded index cannot be read while another process writes it: "
                            "ask through that process (newsbot chat --watch / slack --watch), wait "
                            "for it to finish, or use a Chroma server (NEWSBOT_CHROMA_URL).")
        self.mode = fcntl.LOCK_SH
        self.users += 1

    def release(self) -> None:
        """One store of this process is done with the folder; the last one unlocks it."""
        self.users -= 1
        if self.users <= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.mode, self.users, self.hold_exclusive = 0, 0, False

    def exclusive(self) -> None:
        """Take the lock for writing, or raise LockError if another process uses the index."""
        if self.mode == fcntl.LOCK_EX:
            return
        if not self._try(fcntl.LOCK_EX):
            raise LockError(f"the index at {self.folder} is open in another newsbot process "
                            f"({self.owner()}). An embedded index has one writer and no readers "
                            "beside it: stop that process, index through it (newsbot chat --watch "
                            "/ slack --watch), or use a Chroma server (NEWSBOT_CHROMA_URL).")
        self.mode = fcntl.LOCK_EX
        self._write_owner()

    def release_exclusive(self) -> None:
        """Step down from writing to reading, unless a serving writer keeps the lock."""
        if self.mode == fcntl.LOCK_EX and not self.hold_exclusive:
            fcntl.flock(self.fd, fcntl.LOCK_SH)
            self.mode = fcntl.LOCK_SH

    def owner(self) -> str:
        """Who holds the lock, for messages: the last exclusive holder's record when that
        process holds it still, else a holder the kernel lists (Linux), else "another
        process" (the record of a writer long gone named a pid that no longer existed)."""
        holders = self._holders()
        try:
            info = json.loads((self.folder / OWNER_NAME).read_text())
            if holders is None or int(info["pid"]) in holders:
                return f"{info['command']}, pid {info['pid']}"
        except (OSError, ValueError, KeyError, TypeError):
            pass
        for pid in sorted(holders or ()):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            return f"{command_name(argv.split(chr(0))[:-1] or [''])}, pid {pid}"
        return "another process"

    def _holders(self) -> set[int] | None:
        """Pids of the other processes that hold this lock file, from /proc/locks; None where
        there is no such list."""
        try:
            inode, locks = os.fstat(self.fd).st_ino, Path("/proc/locks").read_text()
        except OSError:
            return None
        found = set()
        for line in locks.splitlines():
            fields = line.split()
            if "->" in fields:  # a waiter, not a holder
                continue
            if len(fields) >= 6 and fields[5].rsplit(":", 1)[-1] == str(inode):
                found.add(int(fields[4]))
        return found - {os.getpid()}

    def _try(self, mode: int) -> bool:
        try:
            fcntl.flock(self.fd, mode | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _write_owner(self) -> None:
        tmp = self.folder / f"{OWNER_NAME}.{os.getpid()}"
        tmp.write_text(json.dumps({"pid": os.getpid(), "command": command_name(sys.argv)}))
        os.replace(tmp, self.folder / OWNER_NAME)


def command_name(argv: list[str]) -> str:
    """How the user started this process, for "being written by ...": "newsbot index" whether
    run as `newsbot` or `python -m bot`; another program by its file name."""
    program = argv[0] if argv else ""
    if argv[1:3] == ["-m", "bot"]:  # another process's command line: `python -m bot chat`
        argv = argv[2:]
    elif not program.endswith(("newsbot", "bot", os.path.join("bot", "__main__.py"))):
        return os.path.basename(program)
    return ("newsbot " + " ".join(argv[1:2])).strip()
