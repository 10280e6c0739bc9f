"""Named entities tagged at ingest (index.entities): stored with the chunks, read at answer time."""

from __future__ import annotations

from datetime import date

import numpy as np
from langchain_core.documents import Document

from bot.answering.retrieval import score_sentences
from bot.answering.spans import find_spans
from index import entities
from index.ingest import ingest

TEXT = ("Joe Biden met Emmanuel Macron in Paris on Tuesday. They agreed to send 300 engineers "
        "to Ukraine. The talks were hosted by the Elysee Palace.")


def _chunks(store) -> list[tuple[str, dict]]:
    got = store.collection.get(include=["documents", "metadatas"])
    return list(zip(got["documents"], got["metadatas"]))


def test_ingest_stores_each_sentences_entities_with_its_chunk(tmp_path, store, fake_embedder):
    (tmp_path / "docs").mkdir()
    front = "---\ntitle: Biden meets Macron in Paris\n---\n"
    (tmp_path / "docs" / "summit.txt").write_text(front + TEXT)
    ingest([tmp_path / "docs"], store, fake_embedder)
    [(text, meta)] = _chunks(store)
    assert len(meta["sent_ents"].split(";")) == 3  # one entry per sentence, like sent_spans
    assert ("Paris", "GPE") in entities.unpack(meta["title"], meta["title_ents"])
    doc = Document(page_content=text, metadata=dict(meta))
    score_sentences(doc, np.ones(8, dtype=np.float32) / 8 ** 0.5)
    first, second, _ = doc.metadata["sentences"]
    assert ("Joe Biden", "PERSON") in first["ents"] and ("Paris", "GPE") in first["ents"]
    assert find_spans(second["text"], "number", second["ents"]) == ["300"]
    assert find_spans(first["text"], "place", first["ents"]) == ["Paris"]
    assert store.info()["entities"] == entities.VERSION


def test_an_index_written_without_entities_is_tagged_by_the_next_ingest(
        tmp_path, store, fake_embedder):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "summit.txt").write_text(TEXT)
    entities.switch(False)  # NEWSBOT_ENTITIES=false, or a machine without the recogniser
    try:
        first = ingest([tmp_path / "docs"], store, fake_embedder)
    finally:
        entities.switch(True)
    assert first.untagged == 1 and "sent_ents" not in _chunks(store)[0][1]
    assert "entities" not in store.info()
    second = ingest([tmp_path / "docs"], store, fake_embedder)
    assert second.unchanged == ["summit"] and second.chunks_written == 0  # nothing re-embedded
    text, meta = _chunks(store)[0]
    assert ("Emmanuel Macron", "PERSON") in entities.unpack(text.split(". ")[0],
                                                            meta["sent_ents"].split(";")[0])
    assert store.info()["entities"] == entities.VERSION


def test_untagged_text_falls_back_to_patterns_and_bad_packing_is_skipped():
    sentence = "They agreed to send 300 engineers to Ukraine."
    assert find_spans(sentence, "number") == ["300 engineers"]  # patterns: number and unit
    assert entities.unpack("Paris", "0-5-GPE,x-y-ORG,3-") == [("Paris", "GPE")]
    assert entities.pack([(0, 5, "GPE"), (6, 9, "ORG")]) == "0-5-GPE,6-9-ORG"


def test_the_short_answer_is_the_tagged_entity_of_the_asked_kind(tmp_path, embedder):
    from bot.factories import build_answerer
    from bot.settings import Settings
    from index.articles import make_article
    from index.ingest import write_articles
    from index.connection import open_store

    text = ("Flooding closed roads across the region on Monday, officials said. The music award "
            "went to Beyonce at the ceremony in Las Vegas. Fans celebrated outside the arena.")
    write_articles([make_article(text, "https://news.example/award", id="award", title="Awards",
                                 source="News", date="2025-11-03")], open_store(tmp_path), embedder)
    answer = build_answerer(Settings(home=tmp_path), embedder=embedder).answer(
        "Who won the music award at the ceremony?", as_of=date(2025, 11, 4))
    # patterns take a person for a name of two words or more: here they offer only "Las Vegas"
    assert find_spans("The music award went to Beyonce at the ceremony in Las Vegas.",
                      "person") == ["Las Vegas"]
    assert answer.short_answer == "Beyonce"


def test_entity_spans_keep_the_currency_sign_and_leave_out_outlets():
    from bot.answering.kinds import answer_kind

    text = "CNN — Gas now costs $5.02 a gallon on average."
    assert find_spans(text, "number", [("CNN", "ORG"), ("5.02", "MONEY")]) == ["$5.02"]
    assert find_spans(text, "org", [("CNN", "ORG")]) == []  # the dateline's outlet is no answer
    assert answer_kind("US household debt passed which massive figure this week?") == "number"
    war = "About 28,500 soldiers stay, a legacy of the Korean War (1950–1953)."
    assert find_spans(war, "number", [("About 28,500", "CARDINAL"), ("1950–1953", "CARDINAL")]) \
        == ["About 28,500"]  # years are no answer to "how many"
