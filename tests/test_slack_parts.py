"""The small parts of the Slack surface: payload parsing, dedupe memory, rate limit."""

from __future__ import annotations

import pytest

from bot.surfaces.slack.dedupe import delivery_key
from bot.surfaces.slack.events import MessageEvent, ignore_reason, parse, plain_text
from bot.surfaces.slack.limits import RateLimiter, channel_allowed


def test_slack_markup_becomes_plain_words():
    text = ("<@UBOT> how many in <#C1|general> &lt;b&gt; &amp;lt; <!here> "
            "<https://x.com/?a=1&amp;b=2|this site> <@U22|bob> <!subteam^S1|@team> <mailto:a@b.c>")
    assert plain_text(text, "UBOT") == ("how many in #general <b> &lt; @here this site @bob "
                                        "@team mailto:a@b.c")
    assert plain_text("<@UBOT>   ", "UBOT") == ""


@pytest.mark.parametrize("fields, reason", [
    ({"user": "UBOT"}, "own message"),
    ({"bot_id": "BBOT"}, "own message"),
    ({"bot_id": "BOTHER", "subtype": "bot_message"}, "bot message"),
    ({"subtype": "message_changed"}, "subtype message_changed"),
    ({"subtype": "message_deleted", "user": None}, "no user"),
    ({"subtype": "channel_join"}, "subtype channel_join"),
    ({"edited": {"ts": "1.2"}}, "edited"),
    ({"subtype": "thread_broadcast"}, None),
    ({}, None),
])
def test_only_people_writing_new_messages_are_answered(fields, reason):
    event = MessageEvent(**{"type": "message", "channel": "C1", "ts": "1.1", "user": "U1",
                            **fields})
    assert ignore_reason(event, "UBOT", "BBOT") == reason


def test_a_malformed_payload_is_none_with_a_log_line(caplog):
    assert parse(MessageEvent, {"type": "message", "channel": "C1"}, "message event") is None
    assert "ignored a malformed message event (ts)" in caplog.text


def test_deliveries_are_keyed_by_event_id_or_trigger_id():
    assert delivery_key({"type": "event_callback", "event_id": "Ev1"}) == "event:Ev1"
    assert delivery_key({"command": "/newsbot", "trigger_id": "T1"}) == "command:T1"
    assert delivery_key({"type": "block_actions", "trigger_id": "T2"}) == "action:T2"
    assert delivery_key({"type": "url_verification"}) is None


def test_the_rate_limit_counts_each_user_over_a_sliding_minute():
    now = [0.0]
    limiter = RateLimiter(per_minute=2, clock=lambda: now[0])
    assert limiter.allow("U1") and limiter.allow("U1") and not limiter.allow("U1")
    assert limiter.allow("U2")
    now[0] = 60.0
    assert limiter.allow("U1")
    assert RateLimiter(per_minute=0).allow("U1")  # 0: unlimited


def test_an_empty_allowlist_allows_every_channel():
    assert channel_allowed("C1", []) and channel_allowed("C1", ["C1"])
    assert not channel_allowed("C2", ["C1"])
    assert channel_allowed("D2", ["C1"])  # a direct message: the list names channels


def test_the_manifest_asks_for_exactly_the_scopes_and_events_the_code_uses():
    import yaml

    from tests.conftest import ROOT

    manifest = yaml.safe_load((ROOT / "bot" / "surfaces" / "slack" / "manifest.yaml").read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted([
        "app_mentions:read", "channels:history", "groups:history", "im:history", "chat:write",
        "reactions:write", "commands"])
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_mention", "message.channels", "message.groups", "message.im"]
    assert manifest["features"]["slash_commands"][0]["command"] == "/newsbot"
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
