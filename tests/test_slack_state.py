"""The shared Slack state: one claim wins across threads, processes and restarts; rows expire."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings
from bot.surfaces.slack.app import build_app
from bot.surfaces.slack.state import Namespace, SharedState, open_state
from tests.conftest import HEADLINE
from tests.fake_slack import (CannedAnswerer, FakeSlack, bot_server, button_click, event_callback,
                              mention, new_id, send, slack_settings, slash_command)

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def claim_all(path: str, keys: list[str], wins) -> None:
    """In another process: claim every key, counting the ones this process won."""
    state = SharedState(Path(path))
    wins.put(sum(state.claim(key, 60) for key in keys))


def test_of_processes_and_threads_claiming_the_same_keys_exactly_one_wins_each(tmp_path):
    path, keys = tmp_path / "state.sqlite", [f"event:Ev{i}" for i in range(300)]
    SharedState(path).close()  # created once, as the first process would
    ctx = multiprocessing.get_context("spawn")
    wins = ctx.Queue()
    procs = [ctx.Process(target=claim_all, args=(str(path), keys, wins)) for _ in range(2)]
    for proc in procs:
        proc.start()
    local, results = SharedState(path), []
    threads = [threading.Thread(target=lambda: results.append(
        sum(local.claim(key, 60) for key in keys))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [wins.get(timeout=60) for _ in procs] + results
    for proc in procs:
        proc.join(timeout=30)
    assert sum(won) == len(keys)


def test_claims_and_values_expire_survive_reopening_and_are_purged(tmp_path):
    now = [1000.0]
    state = SharedState(tmp_path / "s.sqlite", clock=lambda: now[0])
    answers = Namespace(state, "answer", ttl_s=60)
    assert state.claim("k", 60) and not state.claim("k", 60)
    answers.put(("C1", "1.2"), {"question": "q", "n": [1, 2]})
    state.close()
    state = SharedState(tmp_path / "s.sqlite", clock=lambda: now[0])  # a restart
    assert not state.claim("k", 60)
    assert Namespace(state, "answer", 60).get(("C1", "1.2")) == {"question": "q", "n": [1, 2]}
    now[0] += 61
    assert Namespace(state, "answer", 60).get(("C1", "1.2"), "gone") == "gone"
    assert state.claim("k", 60)  # expired, so new again
    assert state.purge() == 1  # the old answer; the fresh claim stays


def test_an_unusable_state_path_is_one_config_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot open the Slack state file .*file/state"):
        open_state(tmp_path / "file" / "state.sqlite")


def test_two_replicas_sharing_the_state_answer_a_twice_delivered_event_once(tmp_path, fake):
    settings, channel = Settings(home=tmp_path), new_id("C")
    event = mention(channel, HEADLINE)
    body = event_callback(event)
    first = build_app(settings, slack_settings(fake), CannedAnswerer())
    second = build_app(settings, slack_settings(fake), CannedAnswerer())
    with bot_server(first) as one, bot_server(second) as two:
        assert send(one, body).status == 200
        fake.wait_for("chat.postMessage", channel=channel)
        retry = send(two, body, headers={"X-Slack-Retry-Num": "1"})
        assert retry.status == 200
        again = event_callback(mention(channel, HEADLINE, ts=event["ts"]))  # another event id
        assert send(two, again).status == 200
        time.sleep(0.6)  # long enough for a listener that is going to post to have posted
    assert len(fake.calls_to("chat.postMessage", channel=channel)) == 1


def test_a_share_click_after_a_restart_still_finds_the_answer(tmp_path, fake):
    settings, channel, user = Settings(home=tmp_path), new_id("C"), new_id("U")
    url = fake.response_url(new_id("cmd"))
    with bot_server(build_app(settings, slack_settings(fake), CannedAnswerer())) as before:
        send(before, slash_command(HEADLINE, channel=channel, user=user, response_url=url),
             content_type=FORM)
        [private] = fake.wait_for("respond", url=url)
    key = private.body["blocks"][-1]["elements"][-1]["value"]
    click_url = fake.response_url(new_id("click"))
    with bot_server(build_app(settings, slack_settings(fake), CannedAnswerer())) as after:
        send(after, button_click("share_answer", key, channel=channel, user=user,
                                 response_url=click_url), content_type=FORM)
        shared, deleted = fake.wait_for("respond", 2, url=click_url)
    assert shared.body["response_type"] == "in_channel" and "28,500" in shared.body["text"]
    assert deleted.body["delete_original"] is True
