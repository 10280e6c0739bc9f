"""JSON article records (.json: one object or a list; .jsonl: one per line), each read alone."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator

from index.articles import Article, LoadError, Loaded, article_id_for, make_article
from index.limits import LoadLimits


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


def load_json(raw: str, loaded: Loaded, reference: dt.date | None) -> None:
    """The records of a .json file (one object or a list) into loaded."""
    limits = loaded.limits
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


def load_jsonl(raw: str, loaded: Loaded, reference: dt.date | None) -> None:
    """The records of a .jsonl file, one per line, into loaded; a bad line costs only itself."""
    limits = loaded.limits
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
