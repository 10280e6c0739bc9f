"""`newsbot eval` end to end on a tiny corpus: real model, real Chroma, baseline side by side."""

from __future__ import annotations

import json
import socket

import pytest
from langchain_core.globals import set_llm_cache

from bot.measurement.evaluation import METRIC_KEYS
from bot.measurement.reply_cache import ReplyCache
from bot.surfaces.cli import main
from tests.fake_openai import FakeOpenAI

ARTICLES = [
    {"id": "korea", "title": "Hegseth in Seoul", "source": "BTA", "url": None, "date": "2025-11-03",
     "text": "About 28,500 American soldiers are stationed in South Korea. "
             "The alliance dates from the Korean War."},
    {"id": "mars", "title": "Rover lands", "source": "NASA", "url": "https://nasa.example/r",
     "date": "2021-02-18", "text": "The Perseverance rover landed in Jezero Crater on Mars. "
                                  "It carries a small helicopter named Ingenuity."},
    {"id": "chips", "title": "Chip plant", "source": "AP", "url": None, "date": "2022-08-09",
     "text": "The CHIPS Act sets aside $52 billion for semiconductor manufacturing."},
]
QUESTIONS = [
    {"id": "q1", "question": "How many US troops are in South Korea?", "answers": ["28,500"],
     "gold_doc_ids": ["korea"]},
    {"id": "q2", "question": "What is the name of the helicopter on the Mars rover?",
     "answers": ["Ingenuity"], "gold_doc_ids": ["mars"]},
    {"id": "q3", "question": "Who won the 2018 FIFA World Cup?", "answers": [],
     "gold_doc_ids": []},
]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_eval_json_reports_both_pipelines_and_writes_rows(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    corpus = _write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    args = ["eval", "--corpus", str(corpus), "--questions", str(questions), "--json",
            "--baseline", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == set(METRIC_KEYS) | {"baseline"}
    assert set(result["baseline"]) == set(METRIC_KEYS)
    assert (result["n"], result["n_answerable"], result["n_unanswerable"]) == (3, 2, 1)
    assert result["hit@1"] == 1.0 and result["answer_accuracy"] == 1.0
    assert result["abstain_accuracy"] == 1.0 and result["citation_accuracy"] == 1.0
    assert result["baseline"]["abstain_accuracy"] == 0.0  # the baseline never abstains
    assert result["baseline"]["model_verified_share"] is None  # nor has it a model
    rows = [json.loads(line) for line in (tmp_path / "out" / "newsbot.jsonl").open()]
    assert [r["id"] for r in rows] == ["q1", "q2", "q3"]
    assert rows[0]["correct"] is True and "28,500" in rows[0]["answer"]
    assert (tmp_path / "out" / "baseline.jsonl").exists()

    # A second run reuses the indexed collections (same corpus hash) and gives the same figures.
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert {k: again[k] for k in ("hit@1", "answer_accuracy")} == {
        k: result[k] for k in ("hit@1", "answer_accuracy")}


def test_holdout_gold_abstains_once_the_reporting_articles_are_out_of_reach(tmp_path, monkeypatch,
                                                                            capsys):
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    corpus = _write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    args = ["eval", "--corpus", str(corpus), "--questions", str(questions), "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["answer_accuracy"] == 1.0  # answered when held
    assert main([*args, "--holdout-gold", "--out", str(tmp_path / "out")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["n"], result["n_unanswerable"]) == (2, 2)  # the answerable ones, held out
    assert result["abstain_accuracy"] == 1.0
    rows = [json.loads(line) for line in (tmp_path / "out" / "newsbot.jsonl").open()]
    held = {"q1": "korea", "q2": "mars"}  # each question's own reporting article is out of reach
    assert all(held[r["id"]] not in r["ranked_articles"] for r in rows)


def test_eval_with_a_missing_corpus_is_a_one_line_error(tmp_path, capsys):
    assert main(["eval", "--corpus", str(tmp_path / "nope.jsonl"),
                 "--questions", str(tmp_path / "q.jsonl")]) == 2
    assert "no such" in capsys.readouterr().err


def _model_eval_args(tmp_path, monkeypatch) -> list[str]:
    """`newsbot eval` of the first question with an OpenAI-compatible model (set its URL)."""
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    corpus = _write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS[:1])
    return ["eval", "--corpus", str(corpus), "--questions", str(questions), "--json",
            "--llm", "openai:any"]


def test_replies_file_lets_a_second_eval_recheck_without_the_model(tmp_path, monkeypatch, capsys):
    replies = tmp_path / "replies.sqlite"
    args = [*_model_eval_args(tmp_path, monkeypatch), "--replies", str(replies)]
    try:
        with FakeOpenAI("Short answer: About 28,500\nAbout 28,500 American soldiers are "
                        "stationed in South Korea [1].") as server:
            monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
            assert main(args) == 0
            first = json.loads(capsys.readouterr().out)
        assert len(server.requests) == 1 and first["model_verified_share"] == 1.0
        assert ReplyCache(replies).replies()[0].startswith("Short answer: About 28,500")

        # The model is gone (nothing listens there): the recorded reply is checked again.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{s.getsockname()[1]}/v1")
        assert main(args) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["model_verified_share"] == 1.0 and again["model_fallbacks"] == 0

        # Without the file the same run cannot reach a model and falls back.
        set_llm_cache(None)  # what a new process starts with
        assert main(args[:-2]) == 0
        assert json.loads(capsys.readouterr().out)["model_fallbacks"] == 1
    finally:
        set_llm_cache(None)  # the cache is process-wide; other tests must not read it


def test_today_is_the_day_a_question_without_a_date_is_asked(tmp_path, monkeypatch, capsys):
    args = _model_eval_args(tmp_path, monkeypatch)
    with FakeOpenAI("About 28,500 American soldiers are stationed in South Korea [1].") as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        assert main([*args, "--today", "2025-11-20"]) == 0
    prompt = json.dumps(server.requests[0]["messages"])
    assert "Today's date is 2025-11-20." in prompt
    capsys.readouterr()
    assert main([*args, "--today", "20 Nov"]) == 2
    err = capsys.readouterr().err
    assert "'20 Nov' is not a day written YYYY-MM-DD" in err and len(err.splitlines()) == 1


def test_a_replies_path_that_cannot_hold_a_file_is_a_one_line_error(tmp_path, capsys):
    corpus = _write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)
    assert main(["eval", "--corpus", str(corpus), "--questions", str(questions),
                 "--replies", str(tmp_path)]) == 2  # a folder
    err = capsys.readouterr().err
    assert err.startswith(f"newsbot: --replies {tmp_path}: not a replies file")
    assert len(err.splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ["eval", "--corpus", "c.jsonl", "--questions", "q.jsonl", "--limit", "0"],
    ["eval", "--corpus", "c.jsonl", "--questions", "q.jsonl", "--limit", "-1"],
    ["bench", "--ingest-limit", "0"],  # was a ZeroDivisionError
    ["bench", "--scale", "0"],
    ["bench", "--memory", "-3"],
])
def test_counts_below_one_are_refused_in_one_line(capsys, argv):
    # Seen by an outside probe: each ran (a negative limit dropped the last question, a zero
    # scale built 225 chunks) or ended in "unexpected error".
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "is not a whole number of at least 1" in err and err.count("\n") == 1


def test_an_out_path_that_is_a_file_is_refused_before_the_run(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("")
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "1", "question": "ok?", "answers": []}\n')
    code = main(["eval", "--corpus", str(tmp_path / "c.jsonl"), "--questions", str(questions),
                 "--out", str(taken)])
    assert code == 2 and "--out" in capsys.readouterr().err


def test_a_corpus_with_a_record_that_cannot_be_read_is_refused(tmp_path, monkeypatch, capsys):
    # Seen by an outside probe: a broken corpus line was skipped without a word, and hit@1
    # fell from 1.0 to 0.75 with exit code 0.
    monkeypatch.setenv("NEWSBOT_HOME", str(tmp_path / "home"))
    corpus = _write_jsonl(tmp_path / "articles.jsonl", ARTICLES)
    corpus.write_text(corpus.read_text() + "{broken\n")
    questions = _write_jsonl(tmp_path / "questions.jsonl", QUESTIONS[:1])
    assert main(["eval", "--corpus", str(corpus), "--questions", str(questions)]) == 2
    err = capsys.readouterr().err
    assert "1 record(s) could not be read" in err and err.count("\n") == 1


def test_bench_without_its_corpus_is_one_line(tmp_path, capsys):
    # Seen by an outside probe: "unexpected error: FileNotFoundError" from --memory and --soak.
    for mode in (["--memory", "5"], ["--soak", "1"], []):
        assert main(["bench", *mode, "--corpus", str(tmp_path / "nope.jsonl")]) == 2
        err = capsys.readouterr().err
        assert "no such corpus file" in err and err.count("\n") == 1
