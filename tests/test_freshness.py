"""A running bot sees new, edited and deleted articles from another process within 10 s.

Real processes throughout: a `chroma run` server, a long-running `newsbot chat`, and separate
`newsbot index` runs that write while it serves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.bots import ChatProcess
from tests.conftest import ROOT
from tests.servers import chroma_server

FRESH_S = 10.0
BUDGET_Q = "What budget did the Freedonia parliament approve?"
ROVER_Q = "What was the rover that the Zembla space agency landed on the moon called?"


def _budget(figure: int) -> str:
    return ("Freedonia budget approved\nThe Freedonia parliament approved a budget of "
            f"{figure} million ducats on Monday after a long debate. The finance minister "
            "said the money would go to schools and roads.")


def _index(env: dict[str, str], docs, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", "index", str(docs), *extra],
                          env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _until(chat: ChatProcess, question: str, done, forbidden=lambda a: False) -> float:
    """Seconds until done(answer) holds; every answer on the way is checked against forbidden."""
    started = time.monotonic()
    while time.monotonic() - started < 3 * FRESH_S:
        answer = chat.ask(question)
        assert not forbidden(answer), answer
        if done(answer):
            return time.monotonic() - started
        time.sleep(0.5)
    pytest.fail(f"the running bot did not see the change: {answer}")


def test_a_running_bot_sees_changes_written_by_another_process(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "budget.txt").write_text(_budget(111))
    with chroma_server(tmp_path / "chroma") as url:
        env = {"NEWSBOT_CHROMA_URL": url, "NEWSBOT_HOME": str(tmp_path / "home")}
        assert _index(env, docs).returncode == 0
        chat = ChatProcess(env)
        try:
            assert "111 million" in chat.ask(BUDGET_Q)
            (docs / "budget.txt").write_text(_budget(222))
            assert _index(env, docs).returncode == 0
            edited = _until(chat, BUDGET_Q, lambda a: "222 million" in a,
                            forbidden=lambda a: "111" in a and "222" in a)
            (docs / "rover.txt").write_text(
                "Zembla lands on the moon\nThe Zembla space agency landed a rover named Quill "
                "on the moon on Tuesday, the first such landing for the country.")
            assert _index(env, docs).returncode == 0
            added = _until(chat, ROVER_Q, lambda a: "Quill" in a)
            (docs / "budget.txt").unlink()
            assert _index(env, docs, "--prune").returncode == 0
            deleted = _until(chat, BUDGET_Q, lambda a: "ducats" not in a)
        finally:
            stderr = chat.close()
    assert "Traceback" not in stderr
    assert max(edited, added, deleted) <= FRESH_S, (edited, added, deleted)


def test_an_embedded_index_refuses_a_second_writer_while_a_bot_serves_it(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "budget.txt").write_text(_budget(111))
    env = {"NEWSBOT_HOME": str(tmp_path / "home")}
    assert _index(env, docs).returncode == 0
    chat = ChatProcess(env)
    try:
        assert "111 million" in chat.ask(BUDGET_Q)
        (docs / "budget.txt").write_text(_budget(222))
        refused = _index(env, docs)
        assert refused.returncode != 0
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "newsbot chat" in lines[0] and "--watch" in lines[0]
        assert "111 million" in chat.ask(BUDGET_Q)  # the bot serves on, unharmed
    finally:
        assert "Traceback" not in chat.close()


def _rover_record() -> dict:
    return {"id": "zembla-rover", "title": "Zembla lands a rover on the moon",
            "date": "2025-11-04", "text": "The Zembla space agency landed a rover named Quill on "
            "the moon on Tuesday, the first such landing for the country. Engineers said the rover "
            "would explore a crater near the south pole for a year."}


def test_chat_watch_answers_from_a_newly_published_feed_item_while_serving(tmp_path):
    from bot.measurement.newsroom import Site, publish, rss_feed, xml

    site = Site("The Example Times").start()
    try:
        budget = {"id": "budget", "title": "Freedonia budget approved", "date": "2025-11-03",
                  "text": _budget(111).split("\n", 1)[1]}
        items = publish(site, [budget])
        site.routes["/feed.xml"] = xml(rss_feed("Times", items))
        env = {"NEWSBOT_HOME": str(tmp_path / "home"), "NEWSBOT_FETCH_DELAY": "0"}
        assert _index(env, site.url("/feed.xml")).returncode == 0
        added = subprocess.run([sys.executable, "-m", "bot", "sources", "add",
                                site.url("/feed.xml"), "--every", "2s"],
                               env={**os.environ, **env}, cwd=ROOT, capture_output=True)
        assert added.returncode == 0, added.stderr
        chat = ChatProcess(env, "--watch")
        try:
            assert "111 million" in chat.ask(BUDGET_Q)
            second = xml(rss_feed("Times", publish(site, [_rover_record()]) + items))
            site.routes["/feed.xml"] = second
            seconds = _until(chat, ROVER_Q, lambda a: "Quill" in a)
            refused = _index(env, str(tmp_path))  # a second writer beside the watching bot
            assert refused.returncode != 0 and "--watch" in refused.stderr
        finally:
            stderr = chat.close()
    finally:
        site.stop()
    assert "Traceback" not in stderr
    assert seconds <= FRESH_S + 2, seconds  # the feed is polled every 2 s
