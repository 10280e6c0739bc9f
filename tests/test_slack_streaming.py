"""The streaming seam: an Answerer that calls on_token shows a growing preview (at most one
update a second), then the checked answer replaces it. The extractive step never streams;
test_slack_http checks that it posts once."""

from __future__ import annotations

import json

import pytest
from slack_sdk import WebClient

from bot.settings import Settings
from bot.surfaces.slack import render
from bot.surfaces.slack.app import build_app
from bot.surfaces.slack.replies import ThreadReply
from tests.conftest import HEADLINE
from tests.fake_slack import (BOT_TOKEN, CannedAnswerer, FakeSlack, bot_server, event_callback,
                              mention, new_id, new_ts, send, slack_settings)


@pytest.fixture(scope="module")
def fake():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def test_previews_are_throttled_to_one_per_interval_then_replaced(fake):
    now = [0.0]
    channel, thread = new_id("C"), new_ts()
    reply = ThreadReply(WebClient(token=BOT_TOKEN, base_url=fake.api_url), channel, thread,
                        interval_s=1.0, clock=lambda: now[0])
    for at, token in [(0.0, "About"), (0.3, " 28,500"), (0.9, " soldiers"), (1.2, " are"),
                      (1.5, " <!here>"), (2.1, " stationed"), (2.4, " there.")]:
        now[0] = at
        reply.on_token(token)
    reply.finish("final text [1]", [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}])

    [post] = fake.calls_to("chat.postMessage", channel=channel)
    updates = fake.calls_to("chat.update", channel=channel)
    assert post.body["thread_ts"] == thread and post.body["text"] == "About"
    assert render.WRITING in json.dumps(post.body["blocks"], ensure_ascii=False)
    # shown at t=0 (post), 1.2 and 2.4 (updates), then the final answer
    assert [u.body["text"] for u in updates] == [
        "About 28,500 soldiers are", "About 28,500 soldiers are &lt;!here&gt; stationed there.",
        "final text [1]"]
    assert all(u.body["ts"] == reply.ts for u in updates)


def test_a_preview_that_cannot_be_replaced_gives_way_to_a_new_message(fake):
    # Seen by an outside probe: chat.update failing (500, msg_too_long, rate limits) left the
    # half-written preview, "Writing...", as the only message, looking final.
    channel, thread = new_id("C"), new_ts()
    reply = ThreadReply(WebClient(token=BOT_TOKEN, base_url=fake.api_url), channel, thread)
    reply.on_token("About")
    preview = reply.ts
    fake.errors["chat.update"] = "msg_too_long"
    try:
        reply.finish("final text [1]", [])
    finally:
        del fake.errors["chat.update"]
    posts = fake.calls_to("chat.postMessage", channel=channel)
    assert [p.body["text"] for p in posts] == ["About", "final text [1]"]
    assert posts[1].body["thread_ts"] == thread and reply.ts != preview
    [deleted] = fake.calls_to("chat.delete", channel=channel)
    assert deleted.body["ts"] == preview


def test_a_streaming_answer_grows_in_place_and_ends_as_the_cited_answer(fake, tmp_path):
    tokens = [f" word{i}" for i in range(24)]
    streaming = CannedAnswerer(tokens=tokens, token_delay_s=0.1)
    channel = new_id("C")
    app = build_app(Settings(home=tmp_path), slack_settings(fake), streaming)
    with bot_server(app) as url:
        assert send(url, event_callback(mention(channel, HEADLINE))).status == 200
        fake.wait_for("reactions.remove", channel=channel)
    [post] = fake.calls_to("chat.postMessage", channel=channel)
    updates = fake.calls_to("chat.update", channel=channel)
    previews, final = updates[:-1], updates[-1]
    assert post.body["text"].strip() == "word0"
    assert 1 <= len(previews) <= 3  # 2.4 s of tokens, at most one preview a second
    shown = [post.at] + [u.at for u in previews]
    assert all(later - earlier > 0.8 for earlier, later in zip(shown, shown[1:]))
    assert all(u.body["text"].startswith(post.body["text"]) for u in previews)
    assert final.body["text"] == "About 28,500 American soldiers are stationed in South Korea. [1]"
    final_blocks = json.dumps(final.body["blocks"])
    assert "*Sources*" in final_blocks and "feedback_up" in final_blocks
    assert render.WRITING not in final_blocks



def test_a_failure_after_the_preview_replaces_it_with_the_friendly_reply(fake, tmp_path):
    failing = CannedAnswerer(tokens=[" partial", " text"], error=RuntimeError("model died"))
    channel = new_id("C")
    with bot_server(build_app(Settings(home=tmp_path), slack_settings(fake), failing)) as url:
        event = mention(channel, HEADLINE)
        assert send(url, event_callback(event)).status == 200
        fake.wait_for("reactions.remove", channel=channel)
    [post] = fake.calls_to("chat.postMessage", channel=channel)
    [final] = fake.calls_to("chat.update", channel=channel)
    [preview] = fake.threads[(channel, event["ts"])]
    assert post.body["text"] == " partial" and final.body["ts"] == preview["ts"]
    assert final.body["text"] == render.FRIENDLY_ERROR
    assert final.body["blocks"] == render.note_blocks(render.FRIENDLY_ERROR)  # preview gone
