"""Answers from the seed with the real model: the headline, a paraphrase, abstention, follow-ups."""

from __future__ import annotations

import json
import os

import pytest

from bot.answering.answer import ABSTAIN_TEXT, Turn, condense
from bot.answering.kinds import answer_kind
from bot.answering.ranking import question_cue
from bot.errors import UsageError
from tests.conftest import HEADLINE, SEED_FILE

SEED_ID = SEED_FILE.stem


def test_headline_question_is_answered_with_28500_and_its_quote(answerer):
    answer = answerer.answer(HEADLINE)
    assert not answer.abstained
    assert "28,500" in answer.answer and answer.answer.endswith("[1]")
    assert len(answer.answer) <= 400
    [citation] = answer.citations
    assert citation.n == 1 and citation.article_id == SEED_ID
    assert "28,500" in citation.quote
    assert citation.quote in SEED_FILE.read_text()  # the exact sentence, not a paraphrase
    assert citation.location.endswith(SEED_FILE.name)
    assert citation.date == "date unknown"
    assert citation.title.startswith("US Secretary of Defense Pete Hegseth arrived")


def test_paraphrased_question_still_finds_the_troop_number(answerer):
    answer = answerer.answer(
        "What is the size of the American military presence on the Korean peninsula?")
    assert not answer.abstained and "28,500" in answer.answer


@pytest.mark.parametrize("question", [
    "Who won the 2018 FIFA World Cup?",
    "What is the boiling point of ethanol?",
    "Which team won the Super Bowl in 1999?",
])
def test_unrelated_question_is_an_abstention_without_citations(answerer, question):
    answer = answerer.answer(question)
    assert answer.abstained and answer.citations == []
    assert answer.answer == ABSTAIN_TEXT


def test_follow_up_with_its_own_subject_is_answered_on_its_own(answerer):
    history = [Turn(question=HEADLINE, answer="About 28,500 ... [1]")]
    answer = answerer.answer("and how many South Korean soldiers?", history)
    assert "450,000" in answer.answer


def test_follow_up_leaning_on_the_last_question_borrows_its_words():
    history = [Turn(question=HEADLINE)]
    assert condense("and why are they there?", history) == f"{HEADLINE} and why are they there?"
    assert condense("Who is the defense minister of South Korea?", history) == (
        "Who is the defense minister of South Korea?")
    assert condense("why?", []) == "why?"


@pytest.mark.parametrize("question", ["Which country elected its first leftist leader?",
                                      "What NFL star announced his retirement?",
                                      "Did Biden sign his climate bill into law?"])
def test_a_new_question_whose_pronoun_points_inside_it_stands_alone(question):
    # Seen in chat: "its" glued this question to the last one, which was answered again.
    assert condense(question, [Turn(question=HEADLINE)]) == question


@pytest.mark.parametrize("question", ["how many people did it kill?", "Which of its ships sank?",
                                      "What did he say about the border?"])
def test_a_pronoun_with_nothing_before_it_to_point_at_leans_on_the_last_question(question):
    assert condense(question, [Turn(question=HEADLINE)]) == f"{HEADLINE} {question}"


def test_a_follow_up_asks_for_what_its_own_question_asks():
    # "who is he?" after "Which country ...?" asks for a person, not a country.
    assert answer_kind("Which country elected its first leftist leader? who is he?") == "person"
    assert question_cue("How many US troops are in Korea? when did they arrive?") == "date"


@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_empty_question_is_refused_with_a_message(answerer, question):
    with pytest.raises(UsageError, match="empty"):
        answerer.answer(question)


def test_timings_are_reported_per_step(answerer):
    timings = answerer.answer(HEADLINE).timings_ms
    assert {"condense", "retrieve", "answer", "total"} <= set(timings)
    assert timings["total"] >= timings["retrieve"] > 0


def test_int8_query_vectors_agree_with_the_full_model(embedder):
    import numpy as np

    questions = [HEADLINE, "Which wildly popular show was green lit for a new season?"]
    for question in questions:
        fast = np.asarray(embedder.embed_query(question))
        full = np.asarray(embedder.embed_documents([question])[0])
        assert embedder._int8_session() is not None  # the int8 path really ran
        assert abs(np.linalg.norm(fast) - 1) < 1e-4 and float(fast @ full) > 0.995


def test_answering_from_an_existing_index_never_imports_torch(seed_home):
    """The query path (int8 ONNX + the tokenizers library) starts without torch, which alone
    costs seconds to import."""
    import subprocess
    import sys

    script = ("import sys, json\n"
              "from bot.surfaces.cli import main\n"
              f"code = main(['ask', '--json', {HEADLINE!r}])\n"
              "print(json.dumps({'code': code, 'torch': 'torch' in sys.modules,"
              " 'st': 'sentence_transformers' in sys.modules}))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "NEWSBOT_HOME": str(seed_home)},
                         check=False)
    answer, flags = run.stdout.strip().rsplit("\n", 1)
    assert "28,500" in answer
    assert json.loads(flags) == {"code": 0, "torch": False, "st": False}


def test_a_citation_holds_every_sentence_the_answer_quotes_from_its_article():
    from langchain_core.documents import Document

    from bot.answering.citations import assemble

    def chunk(article: str, text: str) -> Document:
        return Document(page_content=text, metadata={"article_id": article, "title": article})

    docs = [chunk("a", "S1. S2."), chunk("b", "T1."), chunk("a", "S3.")]
    text, citations = assemble("S1. [1] S2. [1] T1. [2] S3. [3]", docs,
                               {1: ["S1.", "S2."], 2: ["T1."], 3: ["S3."]})
    assert text == "S1. [1] S2. [1] T1. [2] S3. [1]"
    assert [(c.article_id, c.quote, c.quotes) for c in citations] == [
        ("a", "S1.", ["S1.", "S2.", "S3."]), ("b", "T1.", ["T1."])]


def test_the_terminal_shows_every_quoted_sentence_under_its_source():
    from bot.answering.citations import Citation
    from bot.surfaces.render import citation_text

    cite = Citation(n=1, article_id="a", title="T", source="AP", date="2025-11-03", location="l",
                    quote="S1.", quotes=["S1.", "S2."])
    assert citation_text(cite).plain.endswith("\n    “S1.”\n    “S2.”")
    assert citation_text(cite.model_copy(update={"quotes": []})).plain.endswith("\n    “S1.”")
