"""The real langchain-openai client against a local OpenAI-compatible server, plain and streaming."""

from __future__ import annotations

import json
import socket

import pytest

from bot.factories import build_answerer
from bot.settings import Settings
from tests.conftest import HEADLINE, SEED_FILE
from tests.fake_openai import FakeOpenAI
from tests.test_cli import run_cli

pytest.importorskip("langchain_openai")

TRUE_ANSWER = "About 28,500 US troops are stationed in South Korea [1]."
WRONG_ANSWER = "About 45,000 US troops are stationed in South Korea [1]."


def openai_env(base_url: str) -> dict[str, str]:
    """The issue's command line: NEWSBOT_LLM=openai:any OPENAI_BASE_URL=... OPENAI_API_KEY=x."""
    return {"NEWSBOT_LLM": "openai:any", "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "x"}


@pytest.fixture
def openai_answerer(seed_home, embedder, monkeypatch):
    """An Answerer built by the factories for NEWSBOT_LLM=openai:any, and its server."""
    with FakeOpenAI(TRUE_ANSWER) as server:
        for name, value in openai_env(server.base_url).items():
            monkeypatch.setenv(name, value)
        yield build_answerer(Settings(home=seed_home), embedder=embedder), server


def test_a_plain_completion_is_checked_and_shown(openai_answerer):
    answerer, server = openai_answerer
    answer = answerer.answer(HEADLINE)
    assert answer.answer == TRUE_ANSWER and answer.verified and answer.answered_by == "openai:any"
    [request] = server.requests
    assert request["model"] == "any" and not request.get("stream")
    system, human = request["messages"]
    assert system["role"] == "system" and "<source n=\"1\"" in system["content"]
    assert human == {"role": "user", "content": f"Question: {HEADLINE}"}


def test_a_streamed_completion_reaches_on_token_piece_by_piece(openai_answerer):
    answerer, server = openai_answerer
    pieces: list[str] = []
    answer = answerer.answer(HEADLINE, on_token=pieces.append)
    assert server.requests[0]["stream"] is True
    assert len(pieces) == len(TRUE_ANSWER.split()) and "".join(pieces) == TRUE_ANSWER
    assert answer.answer == TRUE_ANSWER and answer.verified


def test_done_when_a_true_answer_is_verified_and_cites_the_seed(seed_home):
    with FakeOpenAI(TRUE_ANSWER) as server:
        result = run_cli("ask", "--json", HEADLINE, home=seed_home,
                         env=openai_env(server.base_url))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["answer"] == TRUE_ANSWER
    assert data["answered_by"] == "openai:any" and data["verified"] is True
    assert data["warnings"] == []
    [citation] = data["citations"]
    assert citation["article_id"] == SEED_FILE.stem and "28,500" in citation["quote"]


def test_done_when_a_changed_number_is_not_shown_and_warnings_say_why(seed_home):
    with FakeOpenAI(WRONG_ANSWER) as server:
        result = run_cli("ask", "--json", HEADLINE, home=seed_home,
                         env=openai_env(server.base_url))
    assert result.returncode == 0, result.stderr
    assert "45,000" not in result.stdout and "45,000" not in result.stderr
    data = json.loads(result.stdout)
    assert data["answered_by"] == "extractive" and data["verified"] is False
    assert "28,500" in data["answer"]
    assert data["warnings"] == [
        "The answer from openai:any failed the citation check and is not shown: sentence 1 gives "
        "a number that the source it cites ([1]) does not contain.",
        "The answer shown is quoted from the sources instead."]


def test_an_unreachable_server_falls_back_with_a_clear_warning(seed_home, embedder, monkeypatch):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for name, value in openai_env(f"http://127.0.0.1:{port}/v1").items():
        monkeypatch.setenv(name, value)
    answer = build_answerer(Settings(home=seed_home), embedder=embedder).answer(HEADLINE)
    assert "28,500" in answer.answer and answer.answered_by == "extractive"
    reason = answer.warnings[0]  # the exception's class name varies with the openai version
    assert reason.startswith("The model openai:any could not be reached or failed (")
    assert reason.endswith("ConnectionError: Connection error.).")


def test_the_repl_on_a_pipe_prints_only_the_checked_answer(seed_home):
    # Streaming shows unchecked text that a pipe cannot erase, so a piped chat asks for the
    # whole answer and prints it once checked (the terminal's preview: test_generative).
    with FakeOpenAI(TRUE_ANSWER) as server:
        result = run_cli("chat", "--llm", "openai:any", home=seed_home, stdin=f"{HEADLINE}\n",
                         env={**openai_env(server.base_url), "NEWSBOT_LLM": "extractive"})
    assert result.returncode == 0, result.stderr
    assert server.requests and not server.requests[0].get("stream")  # --llm won over $NEWSBOT_LLM
    # The checked answer leads with its short answer, under the line saying how fresh it is.
    assert (f"About 28,500\nDate unknown (outlet unknown)\n{TRUE_ANSWER}\n\nSources"
            in result.stdout)
    assert result.stdout.count(TRUE_ANSWER) == 1 and "✓" not in result.stdout
