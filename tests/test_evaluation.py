"""Eval arithmetic on a tiny hand-made set where the right numbers are known."""

from __future__ import annotations

import json

import pytest

from bot.answering.answer import Answer
from bot.answering.citations import Citation
from bot.answering.generative import QUOTED_SHORT
from bot.errors import UsageError
from bot.measurement.evaluation import (METRIC_KEYS, EvalQuestion, Response, contains_phrase, grade,
                            grade_short, is_correct, load_questions, ratios, summarize, token_f1)

TEXTS = {"g1": "Gold one says six.", "g2": "Gold two.", "x": "Other article mentions Paris.",
         "y": "Nothing useful."}


def _answer(text: str, cited: list[str], abstained: bool = False) -> Answer:
    cites = [Citation(n=i + 1, article_id=a, title="t", source="s", date="d", location="l",
                      quote="q") for i, a in enumerate(cited)]
    return Answer(question="q", answer=text, abstained=abstained, citations=cites)


def _q(qid: str, answers: list[str], gold: list[str]) -> EvalQuestion:
    return EvalQuestion(id=qid, question=f"question {qid}?", answers=answers, gold_doc_ids=gold)


@pytest.fixture
def scored():
    cases = [
        # answerable, gold ranked 1st, correct answer, gold cited
        (_q("a", ["six"], ["g1"]), _answer("It was six [1].", ["g1"]), ["g1", "x"], 100.0),
        # answerable, gold ranked 3rd, wrong answer, cites an article that contains the answer
        (_q("b", ["Paris"], ["g2"]), _answer("In 2016 [1].", ["x"]), ["x", "y", "g2"], 200.0),
        # answerable, gold not retrieved, abstained (wrong), no citation
        (_q("c", ["6"], ["g2"]), _answer("I couldn't find that.", [], True), ["x", "y"], 300.0),
        # unanswerable, abstained without citations (right)
        (_q("d", [], []), _answer("I couldn't find that.", [], True), ["y"], 400.0),
        # unanswerable, answered anyway (wrong)
        (_q("e", [], []), _answer("Something [1].", ["y"]), ["y"], 500.0),
    ]
    return [grade(q, Response(a, ranked, ms), TEXTS.get) for q, a, ranked, ms in cases]


def test_summary_has_exactly_the_documented_keys(scored):
    assert tuple(summarize(scored)) == METRIC_KEYS


def test_metric_arithmetic_matches_hand_computed_values(scored):
    m = summarize(scored)
    assert (m["n"], m["n_answerable"], m["n_unanswerable"]) == (5, 3, 2)
    assert m["hit@1"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["hit@5"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["mrr@10"] == pytest.approx((1 + 1 / 3 + 0) / 3, abs=1e-4)
    assert m["answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["abstain_accuracy"] == 0.5
    assert m["citation_accuracy"] == pytest.approx(2 / 3, abs=1e-4)  # a: gold, b: contains Paris
    assert m["latency_ms_p50"] == 300.0
    assert m["latency_ms_p95"] == pytest.approx(480.0)


def test_abstain_accuracy_is_null_without_unanswerable_questions(scored):
    assert summarize(scored[:3])["abstain_accuracy"] is None


@pytest.mark.parametrize("text, answers, expected", [
    ("It was 6 [1].", ["6"], True),
    ("In 2016 [1].", ["6"], False),  # not glued to digits
    ("SQUID GAME returns", ["Squid Game"], True),
    ("Squid Games returns", ["Squid Game"], False),  # not glued to letters
    ("Europe.", ["Asia", "Europe"], True),
    ("x" * 401 + " Europe", ["Europe"], False),  # longer than 400 characters
])
def test_answer_rule_is_whole_phrase_case_insensitive_and_short(text, answers, expected):
    assert is_correct(text, answers, abstained=False) is expected


def test_an_abstention_is_never_a_correct_answer():
    assert not is_correct("six", ["six"], abstained=True)
    assert not contains_phrase("anything", "")


def test_ratios_divide_ours_by_baseline_and_skip_missing_values():
    r = ratios({"hit@1": 0.8, "abstain_accuracy": 0.7, "n": 10},
               {"hit@1": 0.4, "abstain_accuracy": None, "n": 10})
    assert r["hit@1"] == 2.0 and r["abstain_accuracy"] is None and r["n"] == 1.0


def test_bad_question_files_get_clear_errors(tmp_path):
    with pytest.raises(UsageError, match="no such questions file"):
        load_questions(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "question": "ok?", "answers": []}) + "\n{oops\n")
    with pytest.raises(UsageError, match="line 2"):
        load_questions(bad)


@pytest.mark.parametrize("row, says", [
    ({"id": "1", "question": "ok?"}, "line 1: answers: Field required"),  # was: unanswerable
    ({"id": "1", "question": "ok?", "answers": [" "]}, "line 1: answers.0: String should"),
    ({"id": "1", "question": "ok?", "answers": [], "question_date": "soon"}, "line 1: question_date"),
    ({"id": "1", "question": "", "answers": []}, "line 1: question: String should"),
    ({"question": "ok?", "answers": []}, "line 1: id: Field required"),
])
def test_a_question_line_that_would_skew_the_scores_is_refused_by_file_line_and_field(
        tmp_path, row, says):
    # Seen by an outside probe: each of these was scored (a missing "answers" as unanswerable,
    # a bad date changed the answer), or stopped the run after indexing with no line named.
    bad = tmp_path / "q.jsonl"
    bad.write_text(json.dumps(row) + "\n")
    with pytest.raises(UsageError, match=f"{bad} {says}"):
        load_questions(bad)
    twice = tmp_path / "twice.jsonl"
    one = {"id": "1", "question": "ok?", "answers": []}
    twice.write_text(json.dumps(one) + "\n" + json.dumps(one) + "\n")
    with pytest.raises(UsageError, match="line 2: id '1' is used twice"):
        load_questions(twice)


def test_short_answer_metrics_follow_squad_and_fall_back_to_the_answer_text():
    with_short = Answer(question="q", answer="The team won [1].", abstained=False,
                        short_answer="the Las Vegas Aces")
    assert grade_short(with_short, ["Las Vegas Aces"]) == (True, 1.0, 1.0)  # articles dropped
    assert grade_short(with_short, ["Aces"])[1:] == (0.0, pytest.approx(0.5))
    without = _answer("It was six [1].", ["g1"])  # no short answer: the whole text is scored
    assert grade_short(without, ["six"]) == (True, 0.0, pytest.approx(0.4))  # 1 of 4 tokens
    abstained = _answer("I couldn't find that.", [], True)
    assert grade_short(abstained, ["six"]) == (False, 0.0, 0.0)
    assert token_f1("“Squid Game”", "Squid Game") == 1.0  # typographic quotes are punctuation


def test_short_answer_metrics_average_over_answerable_questions(scored):
    m = summarize(scored)  # no short answers: a's text holds "six", 1 of its 4 tokens
    assert m["short_answer_accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["exact_match"] == 0.0 and m["f1"] == pytest.approx(0.4 / 3, abs=1e-4)


def _model_answer(text: str, cited: list[str], *, verified: bool = True, short: str | None = None,
                  abstained: bool = False) -> Answer:
    a = _answer(text, cited, abstained)
    by = "openai:qwen" if verified else "extractive"  # a fallback is shown as extractive
    return a.model_copy(update={"answered_by": by, "verified": verified, "short_answer": short})


def test_an_extractive_run_has_no_model_figures(scored):
    m = summarize(scored)
    assert [m[k] for k in ("model_verified_share", "model_fallbacks", "model_unsupported_numbers",
                           "model_shown_wrong", "model_short_quoted")] == [None] * 5
    assert m["seconds_per_answer"] == 0.3  # mean of 100..500 ms


def test_model_figures_count_shown_model_answers_fallbacks_and_unsupported_numbers():
    texts = {"g1": "Gold one says six and 28,500 troops.", "x": "Nothing numeric."}
    cases = [
        (_q("a", ["six"], ["g1"]), _model_answer("About 28.5 thousand stay [1].", ["g1"],
                                                  short="28,500")),  # supported: same number
        (_q("b", ["six"], ["g1"]), _model_answer("It was 7 [1].", ["x"], short="seven")),
        (_q("c", ["six"], ["g1"]), _model_answer("It was six [1].", ["g1"], verified=False)),
        (_q("d", [], []), _model_answer("I couldn't find that.", [], abstained=True)),
        (_q("e", ["six"], ["g1"]), _model_answer("Gold one says six [1].", ["g1"], short="six")
         .model_copy(update={"warnings": [f"The sentences from openai:qwen are not shown (x); "
                                          f"{QUOTED_SHORT}"]})),
    ]
    rows = [grade(q, Response(a, [], 1000.0), texts.get) for q, a in cases]
    assert [r.unsupported for r in rows] == [[], ["7", "seven"], None, None, []]
    m = summarize(rows)
    assert m["model_verified_share"] == pytest.approx(3 / 4, abs=1e-4)  # a, b, e of a, b, c, e
    assert m["model_fallbacks"] == 1
    assert m["model_unsupported_numbers"] == 1
    assert m["model_shown_wrong"] == 2  # a and b are shown and wrong; c is not the model's
    assert m["model_short_quoted"] == 1
    assert m["seconds_per_answer"] == 1.0
    assert rows[1].record()["unsupported_numbers"] == ["7", "seven"]
