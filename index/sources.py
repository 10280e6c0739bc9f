"""The sources file: the feeds, sitemaps and pages `newsbot watch` polls.

``$NEWSBOT_HOME/sources.txt``, one URL per line, optionally followed by how often to poll it
(``30s``, ``10m``, ``2h``; default: the watch interval). ``#`` starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from index.fetch import FetchError, check_url

HEADER = ("# newsbot sources: one URL per line, optionally followed by how often to poll it\n"
          "# (30s, 10m, 2h); without one, the watch interval (NEWSBOT_WATCH_INTERVAL) applies.\n")
_EVERY = re.compile(r"^(\d+(?:\.\d+)?)([smh])$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


class SourcesError(Exception):
    """A sources file line or argument that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Source:
    """A URL to poll, and its own interval in seconds when it has one."""

    url: str
    every: float | None = None

    def line(self) -> str:
        """The source as a sources-file line."""
        return self.url if self.every is None else f"{self.url} {format_every(self.every)}"


def parse_every(text: str) -> float:
    """Seconds in an interval written 30s, 10m or 2h (a bare number means minutes)."""
    text = text.strip().lower()
    match = _EVERY.match(text if text[-1:].isalpha() else text + "m")
    if not match or float(match.group(1)) <= 0:
        raise SourcesError(f"{text!r} is not an interval like 30s, 10m or 2h")
    return float(match.group(1)) * _UNIT[match.group(2)]


def format_every(seconds: float) -> str:
    """An interval as the shortest of 30s / 10m / 2h that says it exactly."""
    for unit in ("h", "m"):
        if seconds % _UNIT[unit] == 0:
            return f"{int(seconds // _UNIT[unit])}{unit}"
    return f"{seconds:g}s"


def load_sources(path: Path, problems: list[str] | None = None) -> list[Source]:
    """The sources in the file (none if it does not exist). A bad line raises SourcesError, or,
    given a problems list, is skipped and said there (a running watcher keeps the others)."""
    if not path.exists():
        return []
    found: dict[str, Source] = {}
    text = path.read_text(encoding="utf-8", errors="strict" if problems is None else "replace")
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        try:
            source = make_source(words[0], words[1] if len(words) > 1 else None)
        except SourcesError as exc:
            if problems is None:
                raise SourcesError(f"{path}, line {number}: {exc}") from exc
            problems.append(f"{path}, line {number}: {exc}")
            continue
        found[source.url] = source
    return list(found.values())


def make_source(url: str, every: str | None = None) -> Source:
    """A checked Source from a URL and an optional interval."""
    try:
        check_url(url)
    except FetchError as exc:
        raise SourcesError(str(exc)) from exc
    return Source(url, parse_every(every) if every else None)


def save_sources(path: Path, sources: list[Source]) -> None:
    """Write the file whole (via a temporary file, so a crash leaves the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(HEADER + "".join(s.line() + "\n" for s in sources), encoding="utf-8")
    tmp.replace(path)


def add_source(path: Path, source: Source) -> bool:
    """Add (or re-time) a source; False when it was already there unchanged."""
    sources = load_sources(path)
    if source in sources:
        return False
    save_sources(path, [s for s in sources if s.url != source.url] + [source])
    return True


def remove_source(path: Path, url: str) -> bool:
    """Remove a source; False when it was not there."""
    sources = load_sources(path)
    kept = [s for s in sources if s.url != url]
    if len(kept) == len(sources):
        return False
    save_sources(path, kept)
    return True
