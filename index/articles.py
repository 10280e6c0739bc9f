"""Articles and the loaders that read them from .txt, .md, .html, .json and .jsonl files.

Metadata is optional everywhere. In .txt/.md files it may come as a YAML front-matter block:

    ---
    title: US defense chief visits Seoul
    source: Reuters
    date: 2025-11-03
    url: https://example.com/story
    ---
    Article text...

Without it the title is the first line and the date is unknown. JSON records use the fields
``id, title, source, url, date, text`` (the shape of ../shared/eval).

A bad record costs only itself: each record of a .json list or .jsonl file is read on its own,
and a bad date, an over-long title or text is a warning, not a failure (see Loaded).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from index.dates import UNKNOWN_DATE, normalise_date, read_date
from index.files import LoadError, iter_files, read_text
from index.front_matter import split_front_matter
from index.limits import DEFAULT_LIMITS, LoadLimits

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SURROGATES = re.compile("[\ud800-\udfff]")  # from JSON "\ud800" escapes; unencodable
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\s+")

__all__ = ["Article", "ArticleRecord", "LoadError", "Loaded", "UNKNOWN_DATE", "article_id_for",
           "iter_files", "load_file", "load_path", "make_article", "normalise_date"]


class Article(BaseModel):
    """One news article, normalised: the unit that is hashed, chunked and cited."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    source: str = ""
    date: str = UNKNOWN_DATE
    url: str = ""
    text: str
    origin: str = ""  # the file it came from, for --prune and for citations without a url

    @property
    def location(self) -> str:
        """Where a reader can find the article: its url, else the file path."""
        return self.url or self.origin

    def content_hash(self) -> str:
        """A hash of everything that ends up in the index, so unchanged articles can be skipped."""
        fields = [self.title, self.source, self.date, self.url, self.text]
        return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]


class ArticleRecord(BaseModel):
    """The external shape of a JSON article record, validated at the boundary."""

    id: str | int | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: Any = None  # read by index.dates: a bad date is a warning, not a bad record
    text: str

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


@dataclass
class Loaded:
    """What one file gave: its articles, and a (where, why) line per record skipped or changed."""

    origin: str
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, build: Callable[[list[str]], Article]) -> None:
        """Build one article; a LoadError skips only it, and its notes become warnings."""
        notes: list[str] = []
        try:
            article = build(notes)
        except LoadError as exc:
            self.skipped.append((where, str(exc)))
            return
        self.articles.append(article)
        self.warnings += [(where, note) for note in notes]


def make_article(text: str, origin: str, *, id: str | None = None, title: str | None = None,
                 source: str | None = None, date: object = None, url: str | None = None,
                 limits: LoadLimits = DEFAULT_LIMITS, notes: list[str] | None = None,
                 reference: dt.date | None = None) -> Article:
    """Build an Article, filling in the documented fallbacks and keeping within the limits.

    What had to change (a date that is not a date, a title or text cut short) is appended to
    notes, one line each; reference is the time relative dates count from.
    """
    notes = notes if notes is not None else []
    text = _normalise_text(_clean(text))
    if not text:
        raise LoadError("no article text")
    text = _cut_text(text, limits, notes)
    stored_date, date_note = read_date(date, reference)
    notes += [date_note] if date_note else []
    return Article(
        id=_clean_id(id) if id is not None else article_id_for(origin),
        title=_cut_title(_one_line(title) or _first_line(text), limits, notes),
        source=_one_line(source), date=stored_date, url=_one_line(url), text=text, origin=origin)


def article_id_for(origin: str) -> str:
    """The stable id of a file-based article: its file name without the suffix."""
    return _clean_id(Path(origin).stem)


def load_file(path: Path, limits: LoadLimits = DEFAULT_LIMITS) -> Loaded:
    """Read one file into articles; LoadError (one line) when nothing of it can be read."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}")
    raw = read_text(path, limits)
    loaded = Loaded(str(path))
    reference = _file_day(path)
    if suffix in TEXT_SUFFIXES:
        _load_single(loaded, _text_fields(raw, limits), limits, reference)
    elif suffix in HTML_SUFFIXES:
        from index.html_text import html_fields

        _load_single(loaded, html_fields(raw, limits), limits, reference)
    elif suffix == ".json":
        _load_json(raw, loaded, limits, reference)
    else:
        _load_jsonl(raw, loaded, limits, reference)
    return loaded


def load_path(path: Path, limits: LoadLimits = DEFAULT_LIMITS) -> list[Article]:
    """The articles of one file; LoadError when it holds none (the first problem says why)."""
    loaded = load_file(path, limits)
    if not loaded.articles:
        where, why = loaded.skipped[0] if loaded.skipped else (str(path), "no records")
        raise LoadError(f"{why} ({where})" if where != str(path) else why)
    return loaded.articles


def _load_single(loaded: Loaded, fields: dict, limits: LoadLimits, reference: dt.date | None) -> None:
    notes: list[str] = []
    text = fields.pop("text")
    loaded.articles.append(make_article(text, loaded.origin, **fields, limits=limits, notes=notes,
                                        reference=reference))
    loaded.warnings += [(loaded.origin, note) for note in notes]


def _text_fields(raw: str, limits: LoadLimits) -> dict:
    meta, text = split_front_matter(raw, limits)
    fields = {k: meta.get(k) for k in ("id", "title", "source", "url")}
    fields["source"] = fields["source"] or meta.get("outlet")
    out = {k: (str(v) if isinstance(v, str | int | float) else None) for k, v in fields.items()}
    return {**out, "date": meta.get("date"), "text": text}


def _load_json(raw: str, loaded: Loaded, limits: LoadLimits, reference: dt.date | None) -> None:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    except RecursionError as exc:
        raise LoadError("JSON nested too deeply") from exc
    if not isinstance(data, list):
        _add_record(loaded, data, loaded.origin, 1, limits, reference)
        return
    for i, record in enumerate(data[:limits.max_records_per_file], start=1):
        _add_record(loaded, record, f"{loaded.origin} item {i}", i, limits, reference)
    _over_records(loaded, len(data), limits)


def _load_jsonl(raw: str, loaded: Loaded, limits: LoadLimits, reference: dt.date | None) -> None:
    count = 0
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        count += 1
        if count > limits.max_records_per_file:
            continue  # counted, not read
        where = f"{loaded.origin}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            loaded.skipped.append((where, f"invalid JSON: {exc.msg}"))
            continue
        except RecursionError:
            loaded.skipped.append((where, "JSON nested too deeply"))
            continue
        _add_record(loaded, record, where, lineno, limits, reference)
    if count == 0:
        raise LoadError("no records")
    _over_records(loaded, count, limits)


def _over_records(loaded: Loaded, count: int, limits: LoadLimits) -> None:
    if count > limits.max_records_per_file:
        loaded.skipped.append((loaded.origin, (
            f"{count - limits.max_records_per_file:,} records after the first "
            f"{limits.max_records_per_file:,} not read ({limits.setting('max_records_per_file')})")))


def _add_record(loaded: Loaded, record: object, where: str, n: int, limits: LoadLimits,
                reference: dt.date | None) -> None:
    loaded.add(where, lambda notes: _record_article(record, loaded.origin, n, limits, notes,
                                                    reference))


def _record_article(record: object, origin: str, n: int, limits: LoadLimits, notes: list[str],
                    reference: dt.date | None) -> Article:
    if not isinstance(record, dict):
        raise LoadError(f"expected an object with a 'text' field, not {type(record).__name__}")
    try:
        rec = ArticleRecord.model_validate(record)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "record"
        raise LoadError(f"{where}: {problem['msg']}") from exc
    rec_id = str(rec.id) if rec.id is not None else f"{article_id_for(origin)}-{n}"
    return make_article(rec.text, origin, id=rec_id, title=rec.title, source=rec.source,
                        date=rec.date, url=rec.url, limits=limits, notes=notes,
                        reference=reference)


def _file_day(path: Path) -> dt.date | None:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime).date()
    except (OSError, OverflowError, ValueError):
        return None


def _clean(text: str) -> str:
    return _CONTROLS.sub(" ", _SURROGATES.sub("\ufffd", text))


def _one_line(value: str | None) -> str:
    return _LINE_BREAKS.sub(" ", _clean(value or "")).strip()


def _normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _cut_text(text: str, limits: LoadLimits, notes: list[str]) -> str:
    limit = limits.max_text_chars
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("\n"))
    cut = cut[:end + 1].rstrip() if end > limit * 0.8 else cut
    notes.append(f"text is {len(text):,} characters; only the first {len(cut):,} are indexed "
                 f"({limits.setting('max_text_chars')})")
    return cut


def _cut_title(title: str, limits: LoadLimits, notes: list[str]) -> str:
    if len(title) <= limits.max_title_chars:
        return title
    notes.append(f"title is {len(title):,} characters; cut to {limits.max_title_chars} "
                 f"({limits.setting('max_title_chars')})")
    return title[:limits.max_title_chars - 1].rstrip() + "…"


def _first_line(text: str) -> str:
    line = text.split("\n", 1)[0].strip().lstrip("#").strip()
    if len(line) > 120:
        line = line[:117].rsplit(" ", 1)[0] + "..."
    return line


def _clean_id(value: str) -> str:
    cleaned = _ID_UNSAFE.sub("-", str(value).strip()).strip("-")
    if not cleaned:
        raise LoadError("article id is empty")
    return cleaned[:200]
