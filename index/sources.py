"""The sources file: the feeds, sitemaps and pages `newsbot watch` polls.

``$NEWSBOT_HOME/sources.txt``, one URL per line, optionally followed by how often to poll it
(``30s``, ``10m``, ``2h``; default: the watch interval). ``#`` starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
    sources, bad = read_sources(path, strict=problems is None)
    if problems is None and bad:
        raise SourcesError(bad[0][1])
    if problems is not None:
        problems += [why for _, why in bad]
    return sources


def read_sources(path: Path, *, strict: bool = False) -> tuple[list[Source], list[tuple[str, str]]]:
    """(the good sources, [(a bad line as written, why it is bad)]); the file need not exist."""
    if not path.exists():
        return [], []
    found: dict[str, Source] = {}
    bad: list[tuple[str, str]] = []
    text = path.read_text(encoding="utf-8-sig", errors="strict" if strict else "replace")
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        try:
            source = make_source(words[0], words[1] if len(words) > 1 else None)
            if len(words) > 2:
                raise SourcesError(f"{' '.join(words[2:])!r} follows the interval (a URL with "
                                   "a space? write it as %20)")
        except SourcesError as exc:
            bad.append((raw, f"{path}, line {number}: {exc}"))
            continue
        if source.url in found:
            bad.append((raw, f"{path}, line {number}: {source.url} is listed above already "
                             "(that line is used)"))
            continue
        found[source.url] = source
    return list(found.values()), bad


def make_source(url: str, every: str | None = None) -> Source:
    """A checked Source from a URL (spaces in it written %20, as browsers do) and an optional
    interval."""
    url = url.strip().removeprefix("\ufeff").replace(" ", "%20")
    if any(c.isspace() for c in url):
        raise SourcesError(f"{url!r}: a URL cannot hold a tab or a line break")
    try:
        check_url(url)
    except FetchError as exc:
        raise SourcesError(str(exc)) from exc
    parts = urlsplit(url)  # "HTTP://Example.com/x" is the source "http://example.com/x"
    url = urlunsplit(parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()))
    return Source(url, parse_every(every) if every else None)


def save_sources(path: Path, lines: list[str]) -> None:
    """Write the file's lines (via a temporary file, so a crash leaves the old one); a new file
    starts with the HEADER."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(path)


def add_source(path: Path, source: Source) -> bool:
    """Add a source as a new last line, or re-time it in its own line (its comment kept);
    False when it was already there unchanged. Every other line stays as the user wrote it."""
    sources, _ = read_sources(path)
    if source in sources:
        return False
    lines = _lines(path) or HEADER.splitlines()
    at = next((i for i, line in enumerate(lines) if _names(line, {source.url})), None)
    if at is None:
        lines.append(source.line())
    else:
        comment = lines[at].partition("#")[2]
        lines[at] = source.line() + (f"  #{comment}" if comment else "")
    save_sources(path, lines)
    return True


def remove_source(path: Path, url: str) -> bool:
    """Remove the lines of a source (or a bad line that starts with url); False when there is
    none. Comments and every other line stay as the user wrote them."""
    named = {url, url.strip().replace(" ", "%20")}
    try:
        named.add(make_source(url).url)  # "HTTP://Example.com/x" names "http://example.com/x"
    except SourcesError:
        pass
    lines = _lines(path)
    kept = [line for line in lines if not _names(line, named)]
    if len(kept) == len(lines):
        return False
    save_sources(path, kept)
    return True


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return path.read_text(encoding="utf-8-sig", errors="replace").splitlines()


def _names(line: str, urls: set[str]) -> bool:
    """Whether a sources-file line is about one of urls (as written, or as read)."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return False
    if text in urls or text.split()[0] in urls:
        return True
    try:
        words = text.split()
        return make_source(words[0], words[1] if len(words) > 1 else None).url in urls
    except SourcesError:
        return False
