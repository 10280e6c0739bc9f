"""Listeners for questions in conversations: mentions, DMs, and follow-ups in the bot's threads."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict
from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.answering.answer import Turn
from bot.surfaces.slack import render
from bot.surfaces.slack.events import (MessageEvent, ack_now, ignore_reason, mentions,
                                       not_a_question_to_the_bot, parse, plain_text)
from bot.surfaces.slack.limits import channel_allowed
from bot.surfaces.slack.replies import SLACK_ERRORS, Replier, error_code

log = logging.getLogger(__name__)
MAX_HISTORY = 5
THREAD_PAGE = 200


class ThreadMessage(BaseModel):
    """One message of a thread, as conversations.replies returns it."""

    model_config = ConfigDict(extra="ignore")

    ts: str = ""
    user: str | None = None
    bot_id: str | None = None
    text: str = ""


def register(app: App, replier: Replier, allowlist: list[str]) -> None:
    """app_mention and message events: acknowledged at once, answered after (lazy)."""

    def on_mention(event: dict, client: WebClient, context: BoltContext) -> None:
        msg = _accept(event, context, "app_mention")
        if msg is not None:
            answer(client, msg, context)

    def on_message(event: dict, client: WebClient, context: BoltContext) -> None:
        msg = _accept(event, context, "message")
        if msg is None:
            return
        if msg.is_dm:
            answer(client, msg, context)
        elif msg.in_thread and not mentions(msg.text, context.bot_user_id):  # mentions: above
            reason = not_a_question_to_the_bot(msg.text, context.bot_user_id)
            if reason:
                log.debug("ignored thread reply %s/%s: %s", msg.channel, msg.ts, reason)
                return
            answer(client, msg, context, only_if_bot_in_thread=True)

    def answer(client: WebClient, msg: MessageEvent, context: BoltContext,
               only_if_bot_in_thread: bool = False) -> None:
        thread = (msg.channel, msg.thread_ts)
        known = replier.threads.get(thread)
        if only_if_bot_in_thread and known is False:
            return  # a thread already read and found without the bot: no API call
        if not channel_allowed(msg.channel, allowlist):
            if not only_if_bot_in_thread:
                replier.tell(client, msg, render.NOT_ENABLED)
            return
        spoke, history = known is True, []
        if msg.in_thread:
            try:
                found, history = read_thread(client, msg, context.bot_user_id, context.bot_id)
                spoke = spoke or found  # never forget an answer the API does not list yet
                replier.threads.put(thread, spoke)
            except SLACK_ERRORS as exc:  # a mention is still answered, just without history
                log.warning("reading thread %s/%s failed: %s", msg.channel, msg.thread_ts,
                            error_code(exc))
        if only_if_bot_in_thread and not spoke:
            return
        replier.answer_message(client, msg, plain_text(msg.text, context.bot_user_id), history)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])
    app.event("message")(ack=ack_now, lazy=[on_message])


def read_thread(client: WebClient, msg: MessageEvent, bot_user_id: str | None,
                bot_id: str | None) -> tuple[bool, list[Turn]]:
    """Whether the bot already spoke in the thread, and its earlier question/answer turns."""
    page = client.conversations_replies(channel=msg.channel, ts=msg.thread_ts, limit=THREAD_PAGE)
    spoke, turns, pending = False, [], None
    for raw in page.get("messages") or []:
        m = parse(ThreadMessage, raw, "thread message")
        if m is None or m.ts == msg.ts:
            continue
        if (bot_user_id and m.user == bot_user_id) or (bot_id and m.bot_id == bot_id):
            spoke = True
            if pending:
                turns.append(Turn(question=pending, answer=plain_text(m.text)))
                pending = None
        elif m.bot_id is None:
            pending = plain_text(m.text, bot_user_id) or pending
    return spoke, turns[-MAX_HISTORY:]


def _accept(event: dict, context: BoltContext, kind: str) -> MessageEvent | None:
    msg = parse(MessageEvent, event, f"{kind} event")
    if msg is None:
        return None
    reason = ignore_reason(msg, context.bot_user_id, context.bot_id)
    if reason:
        log.debug("ignored %s %s/%s: %s", kind, msg.channel, msg.ts, reason)
        return None
    return msg
