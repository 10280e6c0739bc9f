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
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from index.dates import UNKNOWN_DATE, normalise_date, read_date
from index.files import LoadError, iter_files, read_text
from index.front_matter import split_front_matter
from index.limits import DEFAULT_LIMITS, LoadLimits

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
_ID_UNSAFE = re.compile(r"[^\w.-]+")  # letters and digits of any script are kept
_SURROGATES = re.compile("[\ud800-\udfff]")  # from JSON "\ud800" escapes; unencodable
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\s+")

__all__ = ["Article", "LoadError", "Loaded", "UNKNOWN_DATE", "article_id_for",
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
    author: str = ""
    language: str = ""
    # One story, many copies (index.stories): the group id, every outlet carrying it
    # ("Reuters, CNN") and the id of the version quoted (the longest). Not in content_hash.
    story: str = ""
    story_outlets: str = ""
    story_lead: str = ""

    @property
    def location(self) -> str:
        """Where a reader can find the article: its url, else the file path."""
        return self.url or self.origin

    def content_hash(self) -> str:
        """A hash of everything that ends up in the index, so unchanged articles can be skipped."""
        fields = [self.title, self.source, self.date, self.url, self.text]
        return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:32]


@dataclass
class Loaded:
    """What one file gave: its articles, and a (where, why) line per record skipped or changed.

    Embedding costs per sentence, so a file may hold at most max_sentences_per_file of them:
    the article that crosses the line is cut there, later records are counted and skipped.
    """

    origin: str
    limits: LoadLimits = DEFAULT_LIMITS
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    sentences: int = 0
    over_budget: int = 0

    def add(self, where: str, build: Callable[[list[str]], Article]) -> None:
        """Build one article; a LoadError skips only it, and its notes become warnings."""
        if self.sentences >= self.limits.max_sentences_per_file:
            self.over_budget += 1
            return
        notes: list[str] = []
        try:
            article = self._within_budget(build(notes), notes)
        except LoadError as exc:
            self.skipped.append((where, str(exc)))
            return
        self.articles.append(article)
        self.warnings += [(where, note) for note in notes]

    def finish(self) -> Loaded:
        """Report the records the sentence budget left out, in one line."""
        if self.over_budget:
            self.skipped.append((self.origin, (
                f"{self.over_budget:,} records not read: the records before them hold "
                f"{self.limits.max_sentences_per_file:,} sentences "
                f"({self.limits.setting('max_sentences_per_file')})")))
        return self

    def _within_budget(self, article: Article, notes: list[str]) -> Article:
        from index.chunking import split_sentences  # chunking imports this module

        sentences = split_sentences(article.text)
        room = self.limits.max_sentences_per_file - self.sentences
        self.sentences += min(room, len(sentences))
        if len(sentences) <= room:
            return article
        notes.append(f"text has {len(sentences):,} sentences; only the first {room:,} are "
                     f"indexed ({self.limits.setting('max_sentences_per_file')})")
        return article.model_copy(update={"text": article.text[:sentences[room - 1].end]})


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
    loaded = Loaded(str(path), limits)
    reference = _file_day(path)
    if suffix in TEXT_SUFFIXES:
        _load_single(loaded, _text_fields(raw, limits), reference)
    elif suffix in HTML_SUFFIXES:
        from index.html_text import html_fields

        _load_single(loaded, html_fields(raw, limits), reference)
    else:
        from index.records import load_json, load_jsonl

        (load_json if suffix == ".json" else load_jsonl)(raw, loaded, reference)
    return loaded.finish()


def load_path(path: Path, limits: LoadLimits = DEFAULT_LIMITS) -> list[Article]:
    """The articles of one file; LoadError when it holds none (the first problem says why)."""
    loaded = load_file(path, limits)
    if not loaded.articles:
        where, why = loaded.skipped[0] if loaded.skipped else (str(path), "no records")
        raise LoadError(f"{why} ({where})" if where != str(path) else why)
    return loaded.articles


def _load_single(loaded: Loaded, fields: dict, reference: dt.date | None) -> None:
    """A file that is one article: what fails it fails the file."""
    text = fields.pop("text")
    loaded.add(loaded.origin, lambda notes: make_article(
        text, loaded.origin, **fields, limits=loaded.limits, notes=notes, reference=reference))
    if loaded.skipped:
        raise LoadError(loaded.skipped[0][1])


def _text_fields(raw: str, limits: LoadLimits) -> dict:
    meta, text = split_front_matter(raw, limits)
    fields = {k: meta.get(k) for k in ("id", "title", "source", "url")}
    fields["source"] = fields["source"] or meta.get("outlet")
    out = {k: (str(v) if isinstance(v, str | int | float) else None) for k, v in fields.items()}
    return {**out, "date": meta.get("date"), "text": text}


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
    # NFC: a name typed "ü" and one stored decomposed (macOS file names) are one id
    cleaned = _ID_UNSAFE.sub("-", unicodedata.normalize("NFC", str(value).strip())).strip("-")
    if not cleaned:
        raise LoadError("article id is empty")
    return cleaned[:200]
