"""A folder of hostile and broken article files, with what `newsbot index` must make of it.

Shared by the tests (tests/test_hostile_corpus.py) and `newsbot bench` (bench_fuzz.py), so both
measure the same thing. Each bad case must cost exactly one report line; every good record
must be indexed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

BODY = "Officials met in Seoul on Monday. They discussed troop levels and trade at length."
MANY_RECORDS = 55  # read with NEWSBOT_MAX_RECORDS_PER_FILE=50 (HostileCorpus.env)
FILE_TIME = datetime(2025, 11, 3, 12, 0).timestamp()  # "yesterday" counts from this mtime


@dataclass
class HostileCorpus:
    """The folder, the ids that must be indexed, and the lines that must be reported."""

    root: Path
    good_ids: set[str] = field(default_factory=set)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where ends with, why holds)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=lambda: {"NEWSBOT_MAX_RECORDS_PER_FILE": "50"})


def build_hostile_corpus(root: Path) -> HostileCorpus:
    """Write every case under root/corpus (and a file outside it that a symlink points to)."""
    corpus = HostileCorpus(root / "corpus")
    corpus.root.mkdir(parents=True)
    _text_cases(corpus)
    _markup_cases(corpus)
    _html_cases(corpus)
    _record_cases(corpus)
    _link_cases(corpus, root)
    _size_cases(corpus)
    return corpus


def _write(corpus: HostileCorpus, name: str, data: str | bytes) -> Path:
    path = corpus.root / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _good(corpus: HostileCorpus, name: str, data: str | bytes, article_id: str,
          warning: str | None = None) -> Path:
    path = _write(corpus, name, data)
    corpus.good_ids.add(article_id)
    if warning:
        corpus.warnings.append((name, warning))
    return path


def _bad(corpus: HostileCorpus, name: str, data: str | bytes, why: str) -> None:
    _write(corpus, name, data)
    corpus.skipped.append((name, why))


def _front(meta: str, body: str = BODY) -> str:
    return f"---\n{meta}\n---\n{body}\n"


def _text_cases(c: HostileCorpus) -> None:
    _good(c, "good.txt", f"Troops in Korea\n{BODY}", "good")
    _good(c, "front.md", _front("title: Talks in Seoul\nsource: Reuters\ndate: 2025-11-03"), "front")
    _good(c, "month-13.md", _front("date: 2025-13-45"), "month-13", "'2025-13-45' is not a calendar")
    _good(c, "feb-30.md", _front("date: 2024-02-30"), "feb-30", "'2024-02-30' is not a calendar")
    _good(c, "dict-date.md", _front("date: {y: 2025}"), "dict-date", "{'y': 2025} is not a date")
    path = _good(c, "yesterday.md", _front("date: yesterday"), "yesterday", "read as 2025-11-02")
    os.utime(path, (FILE_TIME, FILE_TIME))
    _good(c, "utf16.txt", ("\ufeffUTF-16 story\n" + BODY).encode("utf-16-le"), "utf16")
    _good(c, "huge-title.md", _front("title: " + "Very long title " * 400), "huge-title",
          "title is 6,399 characters; cut to 300")
    _bad(c, "empty.txt", b"", "empty file")
    _bad(c, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary file")
    _bad(c, "invalid-utf8.txt", b"Caf\xe9 au lait\n" + BODY.encode(), "not UTF-8")
    _bad(c, "notes.pdf", b"%PDF-1.4", "unsupported file type .pdf")
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    bomb += [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    _bad(c, "alias-bomb.md", _front("\n".join(bomb) + "\ntitle: *i"), "anchors or aliases")


def _markup_cases(c: HostileCorpus) -> None:
    """Paths that hold rich markup: "[/x]" closes a tag that was never opened."""
    (c.root / "[").mkdir()
    (c.root / "[bold]" / "[").mkdir(parents=True)
    _good(c, "[/x].txt", f"Markup in a name\n{BODY}", "x")
    _bad(c, "[bold]/[/x]broken.json", "{not json", "invalid JSON")


def _html_cases(c: HostileCorpus) -> None:
    _good(c, "page.html", f"<html><head><title>A page</title></head><body><article><p>{BODY}</p>"
                          "</article></body></html>", "page")
    _bad(c, "deep.html", "<div>" * 100_000 + "deep" + "</div>" * 100_000, "nested over 256")
    _bad(c, "wide.html", "<body>" + "<b>x</b>" * 60_000 + "</body>", "over 50,000 elements")
    _bad(c, "scripts.html", "<html><body><script>var a = 1;</script><script>b()</script></body>"
                            "</html>", "no article text")


def _record_cases(c: HostileCorpus) -> None:
    rows = [json.dumps({"id": "r1", "text": BODY}), "{broken",
            json.dumps({"id": "r2", "title": "Second", "text": BODY}), "[1, 2]",
            json.dumps({"id": "r4", "title": "No text"}),
            json.dumps({"id": "r3", "date": "2025-11-03", "text": "Third. " + BODY})]
    _write(c, "records.jsonl", "\n".join(rows) + "\n")
    c.good_ids |= {"r1", "r3"}  # r2 is taken by dup.json, which sorts first
    c.skipped += [("records.jsonl:2", "invalid JSON"), ("records.jsonl:4", "not list"),
                  ("records.jsonl:5", "text: Field required"),
                  ("records.jsonl (id r2)", "id 'r2' already used by")]
    _good(c, "dup.json", json.dumps({"id": "r2", "text": "The first r2. " + BODY}), "r2")
    _write(c, "list.json", json.dumps([{"id": "l1", "text": BODY}, "a string",
                                       {"id": "l2", "text": BODY}, {"title": "no text"}]))
    c.good_ids |= {"l1", "l2"}
    c.skipped += [("list.json item 2", "not str"), ("list.json item 4", "text: Field required")]
    _bad(c, "bare-string.json", json.dumps("just a string"), "not str")
    _bad(c, "deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply")
    many = [json.dumps({"id": f"m{i}", "text": f"Record {i}. {BODY}"}) for i in range(MANY_RECORDS)]
    _write(c, "many.jsonl", "\n".join(many))
    c.good_ids |= {f"m{i}" for i in range(50)}
    c.skipped.append(("many.jsonl", "5 records after the first 50 not read"))


def _link_cases(c: HostileCorpus, root: Path) -> None:
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("A secret that must not be indexed.\n")
    (c.root / "outside-link.txt").symlink_to(outside / "secret.txt")
    c.skipped.append(("outside-link.txt", "symlink leads outside"))
    (c.root / "loop.txt").symlink_to(c.root / "loop.txt")
    c.skipped.append(("loop.txt", "symlink loop"))
    (c.root / "dangling.txt").symlink_to(c.root / "gone.txt")
    c.skipped.append(("dangling.txt", "broken symlink"))
    (c.root / "inside-link.txt").symlink_to(c.root / "good.txt")  # same file: read once


def _size_cases(c: HostileCorpus) -> None:
    line = ("word " * 1_200_000).encode()  # one 6 MB line, no sentence end
    _bad(c, "six-mb.txt", line, "over the limit of 5,000,000")
    _good(c, "long-line.txt", line[:4_800_000], "long-line", "only the first 100,000")
