"""How the command line reports: logging set up once, and every error as one line."""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from pathlib import Path

from bot.errors import NewsbotError
from bot.surfaces.plain import one_line

log = logging.getLogger("newsbot")
LOW_DISK_MB = 64  # below this, an error is likely the full disk's


def configure_logging(verbose: int) -> None:
    """Logging to stderr, once; quiet third-party chatter unless -vv."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        # slack_bolt logs request bodies (message text) at INFO: only -vv may show them
        # trafilatura warns of markup it drops ("discarding data: None"); index says what it
        # could not read in its own lines
        for noisy in ("chromadb", "htmldate", "httpx", "sentence_transformers", "slack_bolt",
                      "slack_sdk", "trafilatura", "courlan", "transformers", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def report_error(exc: Exception, verbose: int, home: Path | None = None) -> int:
    """Print one line for any error (a traceback only with -v) and return the exit code; when
    the disk holding the index is all but full, the line says so (Chroma's own errors often
    do not)."""
    from index.articles import LoadError
    from index.ingest import IngestError
    from index.store import StoreError

    if verbose:
        log.exception("failed")
    if isinstance(exc, NewsbotError):
        print(f"newsbot: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, (IngestError, StoreError, LoadError)):
        print(f"newsbot: {one_line(exc)}{disk_note(home)}", file=sys.stderr)
        return 2 if isinstance(exc, IngestError) else 1
    first = (str(exc).splitlines() or [""])[0][:300]
    print(f"newsbot: unexpected error: {type(exc).__name__}: {first}{disk_note(home)}"
          f"{damage_note(first)} (run `newsbot -v COMMAND ...` for details)", file=sys.stderr)
    return 1


def damage_note(error: str) -> str:
    """What to do about Chroma's words for a damaged vector index (its files cut short or
    zeroed: an outside probe saw every question fail with these, for good)."""
    if re.search(r"Error finding id|Error loading hnsw|hnsw segment reader", error):
        return ("; Chroma's vector index under NEWSBOT_HOME may be damaged: restore chroma/ from "
                "a backup, or move it away and run `newsbot index` on the articles again")
    return ""


def disk_note(home: Path | None, low_mb: int = LOW_DISK_MB) -> str:
    """"; the disk holding NEWSBOT_HOME (...) has 3 MB free" when it has under low_mb, else ""."""
    if home is None:
        return ""
    try:
        free = shutil.disk_usage(home if home.exists() else home.parent).free
    except OSError:
        return ""
    if free >= low_mb * 2**20:
        return ""
    return f"; the disk holding NEWSBOT_HOME ({home}) has {free / 2**20:.0f} MB free"
