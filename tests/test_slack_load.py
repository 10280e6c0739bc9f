"""Slack HTTP mode under load and failure, over real sockets: bursts, idle clients, Slack down."""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import stat
import threading
import time
import urllib.error
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.settings import Settings
from bot.surfaces.slack import render
from bot.surfaces.slack.app import FEEDBACK_FILE, STATE_FILE, build_app
from tests.conftest import HEADLINE
from tests.fake_slack import (CannedAnswerer, FakeSlack, bot_server, button_click, event_callback,
                              mention, new_id, send, slack_settings, slash_command)

RESETS = (ConnectionError, http.client.RemoteDisconnected)


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def deliver(url: str, body: str, gate: threading.Barrier) -> int | str:
    """Send one signed event once every sender is ready; the status, or what went wrong."""
    gate.wait(timeout=60)
    try:
        return send(url, body).status
    except urllib.error.URLError as exc:
        return "reset" if isinstance(exc.reason, RESETS) else type(exc.reason).__name__
    except RESETS:
        return "reset"


def test_a_burst_of_200_signed_events_is_all_acked_and_answered_once(tmp_path, fake):
    count, channel = 200, new_id("C")
    bodies = [event_callback(mention(channel, HEADLINE, user=new_id("U"))) for _ in range(count)]
    app = build_app(Settings(home=tmp_path), slack_settings(fake, rate_limit=0), CannedAnswerer())
    gate = threading.Barrier(count)
    with bot_server(app) as url, ThreadPoolExecutor(count) as pool:
        outcomes = list(pool.map(lambda body: deliver(url, body, gate), bodies))
        posts = fake.wait_for("chat.postMessage", count, timeout=120, channel=channel)
        fake.wait_for("reactions.remove", count, timeout=120, channel=channel)  # all done
    assert {o: outcomes.count(o) for o in set(outcomes)} == {200: count}  # no reset, no error
    assert len({p.body["thread_ts"] for p in posts}) == count


def test_idle_connections_hold_no_thread_and_are_closed_after_the_idle_timeout(tmp_path, fake):
    app = build_app(Settings(home=tmp_path), slack_settings(fake), CannedAnswerer())
    with bot_server(app, idle_timeout=1) as url:
        port = int(url.split(":")[2].split("/")[0])
        threads_before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
        try:
            time.sleep(0.3)
            assert threading.active_count() < threads_before + 10  # no thread per socket
            assert all(sock.recv(1) == b"" for sock in idle)  # closed by the server (or timeout)
        finally:
            for sock in idle:
                sock.close()
        channel = new_id("C")
        assert send(url, event_callback(mention(channel, HEADLINE))).status == 200  # still serves
        fake.wait_for("chat.postMessage", channel=channel)
        fake.wait_for("reactions.remove", channel=channel)  # its last call, before Slack stops


def only_lines(caplog, text: str) -> list[str]:
    """The log lines that mention `text`."""
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_a_refused_post_is_one_warning_with_slacks_error_code(tmp_path, fake, caplog, capfd):
    fake.errors["chat.postMessage"] = "channel_not_found"
    channel = new_id("C")
    event = mention(channel, HEADLINE)
    app = build_app(Settings(home=tmp_path), slack_settings(fake), CannedAnswerer())
    with caplog.at_level(logging.WARNING), bot_server(app) as url:
        assert send(url, event_callback(event)).status == 200
        fake.wait_for("reactions.remove", channel=channel)
    assert only_lines(caplog, "channel_not_found") == [
        f"posting the reply to {channel}/{event['ts']} failed: channel_not_found"]
    assert [r.levelname for r in caplog.records if r.levelno >= logging.WARNING] == ["WARNING"]
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in capfd.readouterr().err


def test_slack_unreachable_gives_one_line_per_failed_call_and_no_traceback(tmp_path, caplog,
                                                                           capfd):
    slack = FakeSlack().start()
    canned = CannedAnswerer()
    app = build_app(Settings(home=tmp_path), slack_settings(slack), canned)
    channel, user, first = new_id("C"), new_id("U"), new_id("C")
    with caplog.at_level(logging.WARNING), bot_server(app) as url:
        send(url, event_callback(mention(first, HEADLINE)))
        slack.wait_for("reactions.remove", channel=first)  # answered while Slack was up
        dead = slack.root
        slack.stop()  # from now on every call is refused
        assert send(url, event_callback(mention(channel, HEADLINE))).status == 200
        command = slash_command(HEADLINE, channel=channel, user=user, response_url=dead + "/r")
        assert send(url, command, content_type="application/x-www-form-urlencoded").status == 200
        deadline = time.monotonic() + 30
        while len(only_lines(caplog, "Connection refused")) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # anything else it was going to log
    # A call that an earlier test's bot makes after its fake Slack stopped may be logged here.
    lines = [line for line in only_lines(caplog, "failed") if channel in line
             or line.startswith("respond") or first in line]
    assert not [line for line in lines if first in line]
    calls = sorted(re.match(r"posting the reply|reactions_add|reactions_remove|respond",
                            line).group() for line in lines)
    assert calls == ["posting the reply", "reactions_add", "reactions_remove", "respond"]
    assert all(line.endswith("URLError (Connection refused)") for line in lines)
    assert len(canned.asked) == 3  # every question was answered; only the posting failed
    assert not [r for r in caplog.records if r.exc_info] and "Traceback" not in capfd.readouterr().err
    assert not only_lines(caplog, "Failed to send a request")  # slack_sdk's duplicate line


def test_files_holding_questions_and_votes_are_owner_only(tmp_path, fake):
    home = tmp_path / "home"
    home.mkdir()
    (home / FEEDBACK_FILE).write_text("")
    (home / FEEDBACK_FILE).chmod(0o644)  # as an older newsbot left it
    app = build_app(Settings(home=home), slack_settings(fake), CannedAnswerer())
    channel, user = new_id("C"), new_id("U")
    with bot_server(app) as url:
        send(url, event_callback(mention(channel, HEADLINE)))
        [post] = fake.wait_for("chat.postMessage", channel=channel)
        key = post.body["blocks"][-1]["elements"][0]["value"]
        click_url = fake.response_url(new_id("click"))
        send(url, button_click("feedback_up", key, channel=channel, user=user,
                               response_url=click_url, message_ts="1800000000.000001"),
             content_type="application/x-www-form-urlencoded")
        [thanks] = fake.wait_for("respond", url=click_url)
    assert thanks.body["text"] == render.THANKS
    assert json.loads((home / FEEDBACK_FILE).read_text())["question"] == HEADLINE
    written = [home / FEEDBACK_FILE] + sorted(home.glob(STATE_FILE + "*"))
    assert len(written) >= 3  # the votes, the state file and its write-ahead log
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {
        p.name: "0o600" for p in written}
