"""Near-duplicate story groups: the grouping rule, persistence, and the lead version."""

from __future__ import annotations

from index.articles import make_article
from index.ingest import write_articles
from index.stories import open_stories, same_story
from tests.test_live_fetch import records


def article(rec: dict, id: str, source: str, extra: str = ""):
    return make_article(rec["text"] + extra, f"https://{source}/{id}", id=id, title=rec["title"],
                        source=source, date=rec["date"])


def test_the_rule_groups_near_copies_and_contained_versions_only():
    assert same_story(0.95, 500, 510)  # a copy with small edits
    assert same_story(0.33, 230, 660)  # a first version inside a three-times-longer update
    assert not same_story(0.39, 900, 1100)  # CNN's "5 things" newsletters: shared template only


def test_groups_persist_and_a_later_longer_version_becomes_the_lead(tmp_path):
    wire, other = records(2)
    book = open_stories(tmp_path)
    placed, touched = book.assign([article(wire, "a", "Reuters"), article(other, "b", "CNN")])
    assert [a.story for a in placed] == ["a", "b"] and touched == set()
    reopened = open_stories(tmp_path)  # a later ingest, another process
    longer = article(wire, "c", "AP", "\nLater: the ministry gave new figures on Tuesday.")
    [placed_c], touched = reopened.assign([longer])
    assert (placed_c.story, placed_c.story_lead, placed_c.story_outlets) == ("a", "c", "AP, Reuters")
    assert touched == {"a"} and reopened.members("a") == ["a", "c"]
    reopened.forget(["c"])
    assert reopened.ref("a").lead == "a"


def test_joining_a_group_restamps_the_chunks_of_its_earlier_members(tmp_path, store,
                                                                    fake_embedder):
    wire = records(1)[0]
    book = open_stories(tmp_path)
    write_articles([article(wire, "a", "Reuters")], store, fake_embedder, stories=book)
    write_articles([article(wire, "b", "CNN", " More.")], store, fake_embedder, stories=book)
    metas = store.collection.get(include=["metadatas"])["metadatas"]
    assert {(m["article_id"], m["story"], m["story_outlets"], m["story_lead"]) for m in metas} == {
        ("a", "a", "CNN, Reuters", "b"), ("b", "a", "CNN, Reuters", "b")}


def _distinct(n: int, start: int) -> list:
    """n articles of random words: no two in one story."""
    import random

    rng = random.Random(start)
    words = [f"w{i}" for i in range(5000)]
    return [make_article(" ".join(rng.choices(words, k=300)), f"https://x/{i}", id=f"d{i}",
                         title=f"t{i}", source="X") for i in range(start, start + n)]


def test_the_book_keeps_no_python_state_per_article(tmp_path):
    import gc
    import tracemalloc

    book = open_stories(tmp_path)
    book.assign(_distinct(20, 0))  # warm: imports, caches, the hash permutations
    batches = [_distinct(25, 1000 + 25 * i) for i in range(8)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for batch in batches:
        book.assign(batch)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 200_000  # held in dicts and an in-memory LSH: about 21 KB per article, 4 MB


def test_a_book_without_stored_buckets_fills_them_in_and_still_matches(tmp_path):
    wire = records(1)[0]
    open_stories(tmp_path).assign([article(wire, "a", "Reuters")])
    import sqlite3

    with sqlite3.connect(tmp_path / "stories.sqlite") as db:  # as an older version wrote it
        db.execute("delete from bands")
    [copy], _ = open_stories(tmp_path).assign([article(wire, "b", "CNN", " More.")])
    assert copy.story == "a"


def test_a_damaged_book_is_moved_aside_and_a_new_one_begun(tmp_path, caplog):
    # Seen by an outside probe: random bytes, a truncated file or another program's SQLite file
    # at stories.sqlite stopped every `newsbot index` with "file is not a database".
    import sqlite3

    import pytest

    from index.store import StoreError

    other = sqlite3.connect(tmp_path / "other.sqlite")
    other.execute("create table members (x)")  # another program's table of the same name
    other.commit()
    other.close()
    for damage in (b"\x00garbage" * 100, (tmp_path / "other.sqlite").read_bytes()):
        (tmp_path / "stories.sqlite").write_bytes(damage)
        book = open_stories(tmp_path)
        placed, _ = book.assign([make_article("A storm closed the port of Portvale.", "a.txt")])
        assert placed[0].story
        assert "moved it to stories.sqlite.damaged-" in caplog.text and "not grouped" in caplog.text
        assert [p for p in tmp_path.iterdir() if p.name.startswith("stories.sqlite.damaged-")]
        caplog.clear()
        (tmp_path / "stories.sqlite").unlink()
    (tmp_path / "stories.sqlite").mkdir()  # not a file: nothing to move aside, one line
    with pytest.raises(StoreError, match="cannot open .*stories.sqlite"):
        open_stories(tmp_path)
