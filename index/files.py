"""Finding article files under folders, and reading one file's bytes within the limits.

Symlinks are followed only to files inside the folder being indexed; a link that leads out of
it, a broken link and a link loop are each reported in one line and not read.
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from index.limits import LoadLimits

Problems = list[tuple[str, str]]  # (where, why): one report line each
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


class LoadError(Exception):
    """A file that cannot become articles; the message says why, in one line."""


def iter_files(paths: list[Path], problems: Problems | None = None) -> Iterator[Path]:
    """Every candidate file under the given files and folders, sorted, hidden files skipped."""
    problems = problems if problems is not None else []
    seen: set[Path] = set()  # `index DIR DIR/` or `index DIR DIR/a.md`: each file once
    for path in paths:
        for found in _walk(path, problems) if path.is_dir() else [path]:  # a named file: read
            key = found.resolve() if found.exists() else found            # even through a link
            if key not in seen:
                seen.add(key)
                yield found


def read_text(path: Path, limits: LoadLimits) -> str:
    """The file's text (UTF-8, or UTF-16/32 with a BOM), or LoadError with a one-line reason."""
    data = _read_bytes(path, limits)
    if not data.strip():
        raise LoadError("empty file")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                text = "\x00"  # a byte-order mark on bytes that are not text
            if "\x00" in text[:8192]:
                raise LoadError("binary file, not text")
            return text
    if b"\x00" in data[:8192]:
        raise LoadError("binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (bad byte at offset {exc.start})") from exc


def _read_bytes(path: Path, limits: LoadLimits) -> bytes:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LoadError("file name is not valid UTF-8; rename the file") from exc
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise LoadError("not a regular file")
        if info.st_size > limits.max_file_bytes:
            raise LoadError(_too_big(info.st_size, limits))
        with path.open("rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)  # the file may grow while read
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > limits.max_file_bytes:
        raise LoadError(_too_big(len(data), limits))
    return data


def _too_big(size: int, limits: LoadLimits) -> str:
    return (f"file is {size:,} bytes, over the limit of {limits.max_file_bytes:,} "
            f"({limits.setting('max_file_bytes')})")


def _walk(root: Path, problems: Problems) -> list[Path]:
    """Plain files under root, then the symlinks inside it that reach a file not yet listed."""
    files, links = [], []

    def _unreadable(exc: OSError) -> None:
        problems.append((str(exc.filename), f"cannot read folder: {exc.strerror or exc}"))

    for folder, dirs, names in os.walk(root, onerror=_unreadable):
        here = Path(folder)
        links += [here / d for d in dirs if not d.startswith(".") and (here / d).is_symlink()]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in names:
            if not name.startswith("."):
                (links if (here / name).is_symlink() else files).append(here / name)
    seen = {os.path.realpath(f) for f in files}
    base = root.resolve()
    for link in sorted(links):
        target = _follow(link, base, problems)
        if target is not None and target.is_file() and str(target) not in seen:
            seen.add(str(target))
            files.append(link)
    # A symlinked folder inside root is skipped: its files are listed under their own path.
    return sorted(files)


def _follow(link: Path, base: Path, problems: Problems) -> Path | None:
    try:
        target = link.resolve(strict=True)
    except RuntimeError:
        problems.append((str(link), "symlink loop: not followed"))
        return None
    except OSError as exc:
        why = "symlink loop" if exc.errno == errno.ELOOP else "broken symlink"
        problems.append((str(link), f"{why}: not followed"))
        return None
    if not target.is_relative_to(base):
        problems.append((str(link), f"symlink leads outside {base}: not followed"))
        return None
    return target
