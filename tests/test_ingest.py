"""Incremental ingest: idempotent, updates replace, prune removes, bad files never cost data."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from index.articles import Article
from index.ingest import IngestError, ingest, write_articles


def _write(folder, name, text):
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_reingest_skips_unchanged_articles(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    _write(docs, "a.txt", "Alpha one. Alpha two.")
    _write(docs, "b.txt", "Beta one.")
    first = ingest([docs], store, fake_embedder)
    assert sorted(first.new) == ["a", "b"] and first.chunks_written == 2
    ids_before = store.collection.get()["ids"]
    second = ingest([docs], store, fake_embedder)
    assert (second.new, second.updated, sorted(second.unchanged)) == ([], [], ["a", "b"])
    assert second.chunks_written == 0
    assert store.collection.get()["ids"] == ids_before


def test_changed_article_has_its_old_chunks_replaced(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    long_text = " ".join(f"Sentence {i} says something fairly long about the news." for i in range(40))
    path = _write(docs, "a.txt", long_text)
    ingest([docs], store, fake_embedder)
    assert store.count() > 3
    path.write_text("Now it is one short sentence.")
    report = ingest([docs], store, fake_embedder)
    assert report.updated == ["a"]
    got = store.collection.get()
    assert got["documents"] == ["Now it is one short sentence."]  # the old version's chunks are gone
    assert got["ids"] == store.articles()["a"].chunk_ids and got["ids"][0].startswith("a@")


def test_prune_removes_articles_whose_source_is_gone(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    _write(docs, "a.txt", "Alpha.")
    gone = _write(docs, "b.txt", "Beta.")
    ingest([docs], store, fake_embedder)
    gone.unlink()
    assert ingest([docs], store, fake_embedder).pruned == []  # only with --prune
    assert set(store.articles()) == {"a", "b"}
    report = ingest([docs], store, fake_embedder, prune=True)
    assert report.pruned == ["b"]
    assert set(store.articles()) == {"a"}
    assert all(i.startswith("a@") for i in store.collection.get()["ids"])



def test_prune_keeps_web_pages_and_the_files_of_other_folders(tmp_path, store, fake_embedder,
                                                              monkeypatch):
    # Seen by an outside probe: `index DIR --prune` removed every article `watch` had taken
    # (a URL is no file that exists), and, run from another folder, the articles indexed by a
    # relative path (their origin did not exist from there).
    web = Article(id="web-a1", title="From a feed", text="A page from the web.",
                  url="https://example.com/a1", origin="https://example.com/a1")
    write_articles([web], store, fake_embedder)
    _write(tmp_path / "one", "alpha.txt", "Alpha.")
    _write(tmp_path / "two", "beta.txt", "Beta.")
    monkeypatch.chdir(tmp_path)
    ingest([Path("one")], store, fake_embedder)  # relative, as typed in that folder
    monkeypatch.chdir("/")
    report = ingest([tmp_path / "two"], store, fake_embedder, prune=True)
    assert report.pruned == [] and set(store.articles()) == {"web-a1", "alpha", "beta"}
    assert store.articles()["alpha"].origin == str(tmp_path / "one" / "alpha.txt")
    (tmp_path / "one" / "alpha.txt").unlink()
    assert ingest([tmp_path / "two"], store, fake_embedder, prune=True).pruned == []
    assert ingest([tmp_path / "one"], store, fake_embedder, prune=True).pruned == ["alpha"]


def test_file_names_in_any_script_are_distinct_articles(tmp_path, store, fake_embedder):
    # Seen by an outside probe: 新闻.md, Москва.md and Київ.md were skipped ("article id is
    # empty") and ü-bahn.md and ö-bahn.md both became "bahn": 4 of 5 files lost.
    docs = tmp_path / "docs"
    for name in ("新闻.md", "Москва.md", "Київ.md", "ü-bahn.md", "ö-bahn.md"):
        _write(docs, name, f"The story of {name}.")
    report = ingest([docs], store, fake_embedder)
    assert sorted(report.new) == sorted(["新闻", "Москва", "Київ", "ü-bahn", "ö-bahn"])
    assert report.skipped == []
    decomposed = unicodedata.normalize("NFD", "ü-bahn")  # as macOS names files
    (docs / "ü-bahn.md").rename(docs / f"{decomposed}.md")
    again = ingest([docs], store, fake_embedder, prune=True)
    assert (len(again.unchanged), again.new, again.pruned) == (5, [], [])

def test_prune_drops_records_removed_from_a_jsonl_file(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    path = _write(docs, "feed.jsonl", '{"id": "r1", "text": "One."}\n{"id": "r2", "text": "Two."}\n')
    ingest([docs], store, fake_embedder)
    path.write_text('{"id": "r1", "text": "One."}\n')
    assert ingest([docs], store, fake_embedder, prune=True).pruned == ["r2"]


def test_bad_files_are_skipped_with_reasons_and_lose_no_indexed_data(tmp_path, store, fake_embedder):
    docs = tmp_path / "docs"
    good = _write(docs, "good.txt", "A good article.")
    ingest([docs], store, fake_embedder)
    good.write_bytes(b"\xff\xfe\x00garbage\x00")  # the indexed file is now corrupt
    _write(docs, "empty.md", "")
    (docs / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    _write(docs, "new.txt", "A new article.")
    report = ingest([docs], store, fake_embedder, prune=True)
    reasons = dict(report.skipped)
    assert reasons[str(good)] == "binary file, not text"
    assert reasons[str(docs / "empty.md")] == "empty file"
    assert reasons[str(docs / "photo.jpg")] == "unsupported file type .jpg"
    assert report.new == ["new"] and report.pruned == []
    assert set(store.articles()) == {"good", "new"}  # the corrupt file's article is kept


def test_an_id_already_used_by_another_existing_file_is_skipped(tmp_path, store, fake_embedder):
    one, two = tmp_path / "one", tmp_path / "two"
    _write(one, "same.txt", "From folder one.")
    _write(two, "same.txt", "From folder two.")
    ingest([one], store, fake_embedder)
    report = ingest([two], store, fake_embedder)
    assert report.new == [] and report.skipped == [
        (f"{two / 'same.txt'} (id same)", f"id 'same' already used by {one / 'same.txt'}")]
    assert store.collection.get()["documents"] == ["From folder one."]


def test_a_missing_path_is_an_error_before_anything_is_done(tmp_path, store, fake_embedder):
    with pytest.raises(IngestError, match="no such file or folder"):
        ingest([tmp_path / "nope"], store, fake_embedder)
    assert store.count() == 0


def test_the_same_file_under_another_path_spelling_is_unchanged(tmp_path, store, fake_embedder,
                                                                 monkeypatch):
    docs = tmp_path / "docs"
    _write(docs, "a.txt", "Alpha.")
    ingest([docs], store, fake_embedder)
    monkeypatch.chdir(tmp_path)
    report = ingest([Path("docs")], store, fake_embedder, prune=True)  # relative this time
    assert (report.unchanged, report.skipped, report.pruned) == (["a"], [], [])


def test_a_pruned_article_leaves_a_tombstone_that_readers_catch_up_with(tmp_path, store,
                                                                       fake_embedder):
    docs = tmp_path / "docs"
    _write(docs, "a.txt", "Alpha one. Alpha two.")
    gone = _write(docs, "b.txt", "Beta.")
    ingest([docs], store, fake_embedder)
    seen = store.current_seq()
    gone.unlink()
    ingest([docs], store, fake_embedder, prune=True)
    changes = store.changes_since(seen, store.current_seq())
    assert [(r.article_id, r.live) for r in changes] == [("b", False)]


def test_writing_a_few_articles_reads_only_their_manifest_rows(store, fake_embedder):
    from index.articles import make_article
    from index.ingest import write_articles

    def news(i: int, extra: str = ""):
        return make_article(f"Report number {i} says the council met on day {i}.{extra}",
                            f"https://x/{i}", id=f"n{i}", title=f"Report {i}", source="X")

    write_articles([news(i) for i in range(60)], store, fake_embedder)
    manifest, read = store.manifest, []

    class Counting:  # the real collection, counting the manifest rows each call returns
        def __getattr__(self, name):
            return getattr(manifest, name)

        def get(self, *args, **kwargs):
            res = manifest.get(*args, **kwargs)
            read.append(len(res["ids"]))
            return res

    store.manifest = Counting()
    report = write_articles([news(60), news(3, " It adjourned.")], store, fake_embedder)
    assert (report.new, report.updated) == (["n60"], ["n3"])
    assert sum(read) <= 10  # a watcher's poll must not read the whole archive's manifest


def test_a_search_hit_on_a_replaced_version_gets_the_live_version_in_its_place(tmp_path, store,
                                                                             fake_embedder):
    # Seen by an outside probe: while a reader's keyword index still held the old version's
    # chunk ids, the edited article was missing for about a second and a neighbouring report
    # answered instead. The old ids now bring the new version's text, never the old one's.
    docs = tmp_path / "docs"
    path = _write(docs, "a.txt", " ".join(f"Old sentence {i} of the story." for i in range(300)))
    ingest([docs], store, fake_embedder)
    old_ids = store.articles()["a"].chunk_ids
    path.write_text(" ".join(f"New sentence {i} of the story." for i in range(100)))
    ingest([docs], store, fake_embedder)
    new_ids = store.articles()["a"].chunk_ids
    assert len(old_ids) > len(new_ids) > 1
    got = store.current_chunks(old_ids)
    assert all(text.startswith("New sentence") for text, _ in got.values())
    assert got[old_ids[0]][0] == store.get_chunks([new_ids[0]])[new_ids[0]][0]
    assert len(got) == len(new_ids)  # each live chunk once: the extra old ids share the last
    both = store.current_chunks([old_ids[0], new_ids[0]])
    assert list(both) == [new_ids[0]]  # the search found the live chunk itself: no stand-in
