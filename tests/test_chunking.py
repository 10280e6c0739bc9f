"""Sentence splitting, chunk ids and character offsets."""

from __future__ import annotations

from index.articles import make_article
from index.chunking import split_article, split_sentences, version_of


def test_sentences_do_not_break_on_abbreviations_or_decimals():
    text = ("Mr. Smith met U.S. officials on Jan. 5 in Washington. Growth was 3.5 percent! "
            "Was it enough? \"Yes,\" he said.\nA cross-head\nNext paragraph.")
    assert [s.text for s in split_sentences(text)] == [
        "Mr. Smith met U.S. officials on Jan. 5 in Washington.",
        "Growth was 3.5 percent!",
        "Was it enough?",
        "\"Yes,\" he said.",
        "A cross-head",
        "Next paragraph.",
    ]


def test_sentence_spans_point_into_the_text():
    text = "  First one.  Second one.\n\nThird one."
    for sentence in split_sentences(text):
        assert text[sentence.start:sentence.end] == sentence.text


def test_chunks_have_stable_ids_exact_offsets_and_one_sentence_overlap():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(30)]
    article = make_article(" ".join(sentences), "x.txt", id="art")
    chunks = split_article(article, max_words=30)
    version = version_of(article)  # ids name the version, so an edit writes new ids
    assert [c.id for c in chunks] == [f"art@{version}#{i}" for i in range(len(chunks))]
    for chunk in chunks:
        assert article.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text.startswith("Sentence") and chunk.text.endswith(".")
        assert len(chunk.text.split()) <= 30
    for before, after in zip(chunks, chunks[1:]):
        assert after.first_sentence == before.last_sentence  # one sentence of overlap
    assert chunks[0].first_sentence == 0 and chunks[-1].last_sentence == 29
    assert split_article(article, max_words=30) == chunks  # deterministic


def test_chunk_metadata_carries_everything_a_citation_needs():
    article = make_article("One sentence here.", "/data/a.txt", title="T", source="S",
                           date="2024-01-02", url="https://u")
    [chunk] = split_article(article)
    meta = chunk.metadata()
    assert {k: meta[k] for k in ("article_id", "title", "source", "date", "url", "origin",
                                 "chunk", "start", "end")} == {
        "article_id": "a", "title": "T", "source": "S", "date": "2024-01-02", "url": "https://u",
        "origin": "/data/a.txt", "chunk": 0, "start": 0, "end": len(article.text)}


def test_a_sentence_longer_than_the_limit_is_still_one_chunk():
    article = make_article("word " * 300 + "end.", "long.txt")
    [chunk] = split_article(article, max_words=50)
    assert chunk.text == article.text
