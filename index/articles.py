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
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
UNKNOWN_DATE = "date unknown"
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class LoadError(Exception):
    """A file that cannot become articles; the message says why, in one line."""


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


class ArticleRecord(BaseModel):
    """The external shape of a JSON article record, validated at the boundary."""

    id: str | int | None = None
    title: str | None = None
    source: str | None = None
    url: str | None = None
    date: str | date | datetime | None = None
    text: str

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


def make_article(
    text: str,
    origin: str,
    *,
    id: str | None = None,
    title: str | None = None,
    source: str | None = None,
    date: object = None,
    url: str | None = None,
) -> Article:
    """Build an Article, filling in the documented fallbacks for missing metadata."""
    text = _normalise_text(text)
    if not text:
        raise LoadError("no article text")
    fallback_title, _ = _first_line(text)
    return Article(
        id=_clean_id(id) if id is not None else article_id_for(origin),
        title=(title or "").strip() or fallback_title,
        source=(source or "").strip(),
        date=normalise_date(date),
        url=(url or "").strip(),
        text=text,
        origin=origin,
    )


def article_id_for(origin: str) -> str:
    """The stable id of a file-based article: its file name without the suffix."""
    return _clean_id(Path(origin).stem)


def normalise_date(value: object) -> str:
    """Dates become YYYY-MM-DD where they can be read, else they are kept as written."""
    if value is None or value == "":
        return UNKNOWN_DATE
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text or UNKNOWN_DATE


def load_path(path: Path) -> list[Article]:
    """Read one file into articles, or raise LoadError with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type {suffix or '(none)'}")
    raw = _read_text(path)
    origin = str(path)
    if suffix in TEXT_SUFFIXES:
        return [_load_text(raw, origin)]
    if suffix in HTML_SUFFIXES:
        return [_load_html(raw, origin)]
    if suffix == ".json":
        return _load_json(raw, origin)
    return _load_jsonl(raw, origin)


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Every candidate file under the given files and folders, sorted, hidden files skipped."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden:
                    yield child
        else:
            yield path


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError("empty file")
    if b"\x00" in data[:8192]:
        raise LoadError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"not UTF-8 text (bad byte at offset {exc.start})") from exc


def _load_text(raw: str, origin: str) -> Article:
    meta: dict = {}
    match = _FRONT_MATTER.match(raw)
    if match:
        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise LoadError(f"front matter is not valid YAML ({_first_yaml_problem(exc)})") from exc
        if not isinstance(meta, dict):
            raise LoadError("front matter must be 'key: value' lines")
        raw = raw[match.end():]
    fields = {k: meta.get(k) for k in ("id", "title", "source", "date", "url")}
    fields["source"] = fields["source"] or meta.get("outlet")
    return make_article(raw, origin, **{k: _str_or_none(v, k) for k, v in fields.items()})


def _load_html(raw: str, origin: str) -> Article:
    """trafilatura's extraction (as for web pages); BeautifulSoup where it finds no text."""
    from index.extract import extract_fields

    try:
        data = extract_fields(raw)
    except LoadError:
        return _load_html_soup(raw, origin)
    return make_article(data.get("text") or "", origin, title=data.get("title"),
                        source=data.get("source-hostname"), date=data.get("date"),
                        url=data.get("source"))


def _load_html_soup(raw: str, origin: str) -> Article:
    """The article text under <article>/<main>/<body>, minus scripts, navigation and footers."""
    from bs4 import BeautifulSoup  # imported here: only HTML needs it

    soup = BeautifulSoup(raw, "html.parser")
    meta = {
        "title": _meta(soup, "og:title") or (soup.title.get_text(strip=True) if soup.title else None),
        "source": _meta(soup, "og:site_name"),
        "date": _meta(soup, "article:published_time") or _meta(soup, "date"),
        "url": _meta(soup, "og:url") or _canonical(soup),
    }
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form",
                     "iframe", "svg", "button", "template"]):
        tag.decompose()
    body = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = [el.get_text(" ", strip=True) for el in body.find_all(["h1", "h2", "h3", "p", "li"])]
    text = "\n".join(b for b in blocks if b) or body.get_text("\n", strip=True)
    if not meta["title"]:
        heading = body.find("h1")
        meta["title"] = heading.get_text(" ", strip=True) if heading else None
    return make_article(text, origin, **meta)


def _load_json(raw: str, origin: str) -> list[Article]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    records = data if isinstance(data, list) else [data]
    return [_record_article(rec, origin, f"item {i + 1}") for i, rec in enumerate(records)]


def _load_jsonl(raw: str, origin: str) -> list[Article]:
    articles = []
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LoadError(f"invalid JSON on line {lineno}: {exc.msg}") from exc
        articles.append(_record_article(record, origin, f"line {lineno}"))
    if not articles:
        raise LoadError("no records")
    return articles


def _record_article(record: object, origin: str, where: str) -> Article:
    if not isinstance(record, dict):
        raise LoadError(f"{where}: expected an object with a 'text' field")
    try:
        rec = ArticleRecord.model_validate(record)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"]) or "record"
        raise LoadError(f"{where}: {field}: {problem['msg']}") from exc
    rec_id = str(rec.id) if rec.id is not None else f"{article_id_for(origin)}-{where.split()[-1]}"
    return make_article(rec.text, origin, id=rec_id, title=rec.title, source=rec.source,
                        date=rec.date, url=rec.url)


def _normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _first_line(text: str) -> tuple[str, int]:
    line = text.split("\n", 1)[0].strip().lstrip("#").strip()
    if len(line) > 120:
        line = line[:117].rsplit(" ", 1)[0] + "..."
    return line, len(line)


def _clean_id(value: str) -> str:
    cleaned = _ID_UNSAFE.sub("-", str(value).strip()).strip("-")
    if not cleaned:
        raise LoadError("article id is empty")
    return cleaned


def _str_or_none(value: object, key: str) -> str | None:
    if value is None:
        return None
    if key == "date":
        return normalise_date(value)
    return str(value)


def _meta(soup: object, name: str) -> str | None:
    tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
    content = tag.get("content") if tag else None
    return content.strip() if content else None


def _canonical(soup: object) -> str | None:
    link = soup.find("link", attrs={"rel": "canonical"})
    return link.get("href") if link else None


def _first_yaml_problem(exc: yaml.YAMLError) -> str:
    return str(getattr(exc, "problem", None) or exc).splitlines()[0]
