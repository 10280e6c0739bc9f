"""Slack payloads as typed models, parsed at the boundary; anything malformed becomes None."""

from __future__ import annotations

import logging
import re
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_bolt import Ack

from bot.surfaces.plain import is_chatter, without_emoji_codes

log = logging.getLogger(__name__)

ID = r"^[A-Z0-9]{2,40}$"
TS = r"^\d{1,12}\.\d{1,8}$"
# Subtypes that are still a person writing; every other subtype is an edit, delete, join, bot...
USER_SUBTYPES = {None, "thread_broadcast", "file_share"}
_MARKUP = re.compile(r"<([^<>]*)>")
_USER_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
Model = TypeVar("Model", bound=BaseModel)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MessageEvent(_Payload):
    """An app_mention or message event."""

    type: str
    channel: str = Field(pattern=ID)
    ts: str = Field(pattern=TS)
    user: str | None = Field(None, pattern=ID)
    text: str = ""
    thread_ts: str | None = Field(None, pattern=TS)
    channel_type: str | None = None
    subtype: str | None = None
    bot_id: str | None = None
    edited: dict | None = None

    @property
    def in_thread(self) -> bool:
        """A reply inside an existing thread (not the thread's first message)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_dm(self) -> bool:
        """A direct message to the bot."""
        return self.channel_type == "im" or self.channel.startswith("D")


class SlashCommand(_Payload):
    """A `/newsbot ...` invocation."""

    command: str
    text: str = ""
    user_id: str = Field(pattern=ID)
    channel_id: str = Field(pattern=ID)
    response_url: str = Field(pattern=r"^https?://")
    trigger_id: str = ""


class ButtonClick(_Payload):
    """One click on one of the bot's buttons (block_actions with a single action)."""

    action_id: str
    value: str = ""
    user_id: str = Field(pattern=ID)
    channel_id: str | None = Field(None, pattern=ID)
    message_ts: str | None = Field(None, pattern=TS)
    message_text: str = ""
    response_url: str = Field(pattern=r"^https?://")


_OBJECTS = ("event", "user", "team", "message", "channel", "container", "view")


def well_formed(body: object) -> bool:
    """The shape Bolt's middleware and matchers rely on: a JSON object whose event, user, team,
    message, channel, container and view, if any, are objects and whose actions are a list of
    them."""
    if not isinstance(body, dict):
        return False
    actions = body.get("actions", [])
    return (all(isinstance(body.get(key) or {}, dict) for key in _OBJECTS)
            and isinstance(actions, list) and all(isinstance(a, dict) for a in actions))


def ack_now(ack: Ack) -> None:
    """Acknowledge within Slack's 3 seconds; lazy listeners do the work afterwards."""
    ack()


def parse(model: type[Model], data: object, what: str) -> Model | None:
    """The payload as `model`, or None with a log line (never a traceback) when it is malformed."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "body" for e in exc.errors()[:3])
        log.warning("ignored a malformed %s (%s)", what, fields)
        return None


def parse_click(body: dict) -> ButtonClick | None:
    """The block_actions payload of a button click, flattened."""
    actions = body.get("actions") or [{}]
    message = body.get("message") or {}
    return parse(ButtonClick, {
        "action_id": actions[0].get("action_id", ""), "value": actions[0].get("value", ""),
        "user_id": (body.get("user") or {}).get("id"),
        "channel_id": (body.get("channel") or {}).get("id"),
        "message_ts": message.get("ts") or (body.get("container") or {}).get("message_ts"),
        "message_text": message.get("text", ""), "response_url": body.get("response_url"),
    }, "button click")


def ignore_reason(event: MessageEvent, bot_user_id: str | None, bot_id: str | None) -> str | None:
    """Why a message is not a person asking (bot, self, edit, delete, join...), or None."""
    if event.bot_id or event.subtype == "bot_message":
        return "own message" if event.bot_id and event.bot_id == bot_id else "bot message"
    if event.user is None or event.user == bot_user_id:
        return "own message" if event.user else "no user"
    if event.subtype not in USER_SUBTYPES:
        return f"subtype {event.subtype}"
    if event.edited:
        return "edited"
    return None


def not_a_question_to_the_bot(text: str, bot_user_id: str | None) -> str | None:
    """Why a reply in the bot's thread is for no answer: empty (a file alone), addressed to
    another person, or thanks and agreement ("thanks!", "ok :+1:"); None for a question."""
    others = {u for u in _USER_MENTION.findall(text) if u != bot_user_id}
    if others:
        return "addressed to another person"
    plain = plain_text(text, bot_user_id)
    if not re.search(r"[^\W_]", without_emoji_codes(plain)):
        return "no words"
    if is_chatter(plain):
        return "thanks or agreement"
    return None


def mentions(text: str, user_id: str | None) -> bool:
    """True when the text mentions this user."""
    return bool(user_id) and (f"<@{user_id}>" in text or f"<@{user_id}|" in text)


def plain_text(text: str, bot_user_id: str | None = None) -> str:
    """Slack message markup as plain words: the bot's mention dropped, links and names unwrapped."""

    def _unwrap(match: re.Match) -> str:
        target, _, label = match.group(1).partition("|")
        if bot_user_id and target == f"@{bot_user_id}":
            return " "
        if target[:1] in ("@", "#"):
            return target[0] + (label.lstrip("@#") or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^...|fallback>
            return label or "@" + target[1:].split("^")[0]
        return label or target

    unwrapped = _MARKUP.sub(_unwrap, text)
    # Slack escapes exactly these three in message text; &amp; last, so "&amp;lt;" stays "&lt;".
    unescaped = unwrapped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(unescaped.split())
