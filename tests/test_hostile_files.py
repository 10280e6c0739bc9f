"""Hostile files: each bad record, date, link or oversized part costs one line, never the run."""

from __future__ import annotations

import json
import os
import time

import pytest

from bot.measurement.fuzz_corpus import FILE_TIME
from index.articles import UNKNOWN_DATE, LoadError, load_file
from index.ingest import ingest
from index.limits import LoadLimits


def _md(tmp_path, meta: str, name: str = "a.md"):
    path = tmp_path / name
    path.write_text(f"---\n{meta}\n---\nOfficials met in Seoul. They talked.\n")
    return path


@pytest.mark.parametrize("value, why", [
    ("2025-13-45", "'2025-13-45' is not a calendar date"),
    ("2024-02-30", "'2024-02-30' is not a calendar date"),
    ("{y: 2025}", "{'y': 2025} is not a date"),
    ("[2025, 11]", "[2025, 11] is not a date"),
])
def test_a_bad_front_matter_date_is_unknown_with_a_warning(tmp_path, value, why):
    loaded = load_file(_md(tmp_path, f"date: {value}"))
    [article] = loaded.articles
    assert article.date == UNKNOWN_DATE and loaded.skipped == []
    [(where, warning)] = loaded.warnings
    assert where == str(tmp_path / "a.md") and why in warning


def test_relative_dates_count_from_the_file_time(tmp_path):
    path = _md(tmp_path, "date: yesterday")
    os.utime(path, (FILE_TIME, FILE_TIME))
    assert load_file(path).articles[0].date == "2025-11-02"
    rows = tmp_path / "feed.jsonl"
    rows.write_text(json.dumps({"id": "r", "date": "3 days ago", "text": "Hello."}))
    os.utime(rows, (FILE_TIME, FILE_TIME))
    assert load_file(rows).articles[0].date == "2025-10-31"


def test_only_real_calendar_dates_are_stored(tmp_path):
    rows = tmp_path / "feed.jsonl"
    dates = ["2025-11-03", "Mon, 03 Nov 2025 10:00:00 GMT", "Nov 3, 2025", "someday", True, 2025]
    rows.write_text("\n".join(json.dumps({"id": f"r{i}", "date": d, "text": "Hi."})
                              for i, d in enumerate(dates)))
    got = [a.date for a in load_file(rows).articles]
    assert got == ["2025-11-03"] * 3 + [UNKNOWN_DATE] * 3


def test_one_bad_jsonl_line_or_json_item_skips_only_that_record(tmp_path):
    rows = tmp_path / "feed.jsonl"
    rows.write_text('{"id": "a", "text": "One."}\n{broken\n[1]\n{"id": "b", "text": "Two."}\n')
    loaded = load_file(rows)
    assert [a.id for a in loaded.articles] == ["a", "b"]
    assert [w for w, _ in loaded.skipped] == [f"{rows}:2", f"{rows}:3"]
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"id": "c", "text": "One."}, "x", {"id": "d", "text": "Two."}]))
    loaded = load_file(listed)
    assert [a.id for a in loaded.articles] == ["c", "d"]
    assert loaded.skipped == [(f"{listed} item 2", "expected an object with a 'text' field, not str")]


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"{n}: &{n} [{','.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")]
    path = _md(tmp_path, "\n".join(lines) + "\ntitle: *i")
    started = time.perf_counter()
    with pytest.raises(LoadError, match="anchors or aliases"):
        load_file(path)
    assert time.perf_counter() - started < 5  # expanding it took minutes and gigabytes


@pytest.mark.parametrize("html, why", [
    ("<div>" * 50_000 + "x" + "</div>" * 50_000, "nested over 256 levels"),
    ("<body>" + "<b>x</b>" * 60_000 + "</body>", "over 50,000 elements"),
    ("<html><body><script>a()</script></body></html>", "no article text"),
])
def test_hostile_html_is_refused_before_a_tree_is_built(tmp_path, html, why):
    path = tmp_path / "page.html"
    path.write_text(html)
    with pytest.raises(LoadError, match=why):
        load_file(path)


def test_long_titles_and_texts_are_cut_with_a_warning(tmp_path):
    path = tmp_path / "feed.jsonl"
    path.write_text(json.dumps({"id": "a", "title": "T" * 1000, "text": "Word. " * 1000}))
    loaded = load_file(path, LoadLimits(max_title_chars=50, max_text_chars=600))
    [article] = loaded.articles
    assert len(article.title) == 50 and len(article.text) <= 600
    assert [why.split(";")[0] for _, why in loaded.warnings] == [
        "text is 5,999 characters", "title is 1,000 characters"]


def test_limits_bound_bytes_records_and_sentences_per_file(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    with pytest.raises(LoadError, match="over the limit of 1,000 .NEWSBOT_MAX_FILE_BYTES"):
        load_file(big, LoadLimits(max_file_bytes=1000))
    rows = tmp_path / "feed.jsonl"
    rows.write_text("\n".join(json.dumps({"id": f"r{i}", "text": "One two. Three four."})
                              for i in range(10)))
    loaded = load_file(rows, LoadLimits(max_records_per_file=4))
    assert len(loaded.articles) == 4 and "6 records after the first 4" in loaded.skipped[0][1]
    loaded = load_file(rows, LoadLimits(max_sentences_per_file=5))
    assert [a.text for a in loaded.articles][2:] == ["One two."]  # cut at the fifth sentence
    assert "7 records not read" in loaded.skipped[0][1]


def test_utf16_with_a_bom_is_read_and_bad_encodings_are_one_line(tmp_path):
    path = tmp_path / "u.txt"
    path.write_bytes("\ufeffSeoul talks\nThey met.".encode("utf-16-le"))
    assert load_file(path).articles[0].title == "Seoul talks"
    path.write_bytes(b"\xff\xfeA\x00\xd8")  # a BOM, then bytes that are not UTF-16
    with pytest.raises(LoadError, match="binary file"):
        load_file(path)


def test_symlinks_are_followed_only_inside_the_folder_and_loops_are_reported(
        tmp_path, store, fake_embedder):
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    docs.mkdir(), outside.mkdir()
    (docs / "a.txt").write_text("Inside.")
    (outside / "secret.txt").write_text("Outside.")
    (docs / "out.txt").symlink_to(outside / "secret.txt")
    (docs / "loop.txt").symlink_to(docs / "loop.txt")
    (docs / "same.txt").symlink_to(docs / "a.txt")  # read once, as a.txt
    (docs / "sub").symlink_to(outside)
    report = ingest([docs], store, fake_embedder)
    assert report.new == ["a"]
    assert report.skipped == [
        (str(docs / "loop.txt"), "symlink loop: not followed"),
        (str(docs / "out.txt"), f"symlink leads outside {docs.resolve()}: not followed"),
        (str(docs / "sub"), f"symlink leads outside {docs.resolve()}: not followed")]


def test_a_file_with_a_skipped_record_is_not_pruned_from(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    feed = docs / "feed.jsonl"
    feed.write_text('{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."}\n')
    ingest([docs], store, fake_embedder)
    feed.write_text('{"id": "a", "text": "One."}\n{"id": "b", "text": "Two."\n')  # b is broken
    report = ingest([docs], store, fake_embedder, prune=True)
    assert report.pruned == [] and set(store.articles()) == {"a", "b"}


def test_the_chat_history_file_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    from bot.surfaces.repl import terminal_reader

    history = tmp_path / "home" / "history"
    history.parent.mkdir()
    history.write_text("")
    history.chmod(0o644)  # as an older newsbot, or libedit, left it
    monkeypatch.setattr("builtins.input", lambda prompt: "a question")
    assert terminal_reader(history)("> ") == "a question"
    assert history.stat().st_mode & 0o777 == 0o600
