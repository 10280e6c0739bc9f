"""Answering one question in Slack: progress, the (streamed) reply, refusals and failures.

Only `Answerer.answer(...)` is called here; what it raises never reaches Slack as text.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.answering.answer import MAX_QUESTION_CHARS, Answer, Answerer, Turn
from bot.answering.dates import split_filters
from bot.errors import NewsbotError
from bot.surfaces.slack import render
from bot.surfaces.slack.events import MessageEvent
from bot.surfaces.slack.limits import RateLimiter
from bot.surfaces.slack.state import Namespace, SharedState

log = logging.getLogger(__name__)
PROGRESS_EMOJI = "eyes"
SLACK_ERRORS = (SlackClientError, OSError)  # API errors, and network errors from urllib
DAY_S = 24 * 3600


@dataclass(frozen=True)
class Asked:
    """A question and the answer the bot gave, kept for sharing and feedback."""

    question: str
    answer: Answer

    def to_json(self) -> dict:
        """What the shared state stores."""
        return {"question": self.question, "answer": self.answer.model_dump(mode="json")}

    @classmethod
    def from_json(cls, data: object) -> Asked | None:
        """Back from the shared state; None for anything that is not a stored answer."""
        if not isinstance(data, dict) or "answer" not in data:
            return None
        return cls(str(data.get("question", "")), Answer.model_validate(data["answer"]))


class ThreadReply:
    """One bot message: a preview growing with the tokens (throttled), then the final answer."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str | None, *,
                 interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        self.interval_s, self._clock = interval_s, clock
        self.ts: str | None = None
        self._text = ""
        self._shown_at: float | None = None
        self._lock = threading.Lock()

    def on_token(self, piece: str) -> None:
        """Add generated text; show it unless the last preview is younger than the interval."""
        with self._lock:
            self._text += piece
            now = self._clock()
            if self._shown_at is not None and now - self._shown_at < self.interval_s:
                return
            self._shown_at = now
            try:
                self._send(render.clip(render.escape(self._text), render.FALLBACK_CHARS),
                           render.preview_blocks(self._text))
            except SLACK_ERRORS as exc:  # a lost preview is not worth failing the answer
                log.warning("preview update failed in %s: %s", self.channel, error_code(exc))

    def finish(self, text: str, blocks: list[dict]) -> None:
        """Post the final message, or replace the preview (blocks and all) with it. When the
        preview cannot be replaced (Slack refuses the update), the answer is posted anew and
        the preview deleted: a half-written "Writing..." message must not look final."""
        with self._lock:
            if self.ts is None:
                self._send(text, blocks)
                return
            try:
                self.client.chat_update(channel=self.channel, ts=self.ts, text=text,
                                        blocks=blocks)
            except SLACK_ERRORS as exc:
                log.warning("replacing the preview in %s failed (%s); posting the answer anew",
                            self.channel, error_code(exc))
                preview, self.ts = self.ts, None
                self._send(text, blocks)
                try_call(self.client.chat_delete, channel=self.channel, ts=preview)

    def _send(self, text: str, blocks: list[dict]) -> None:
        if self.ts is None:
            posted = self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks,
                unfurl_links=False, unfurl_media=False)
            self.ts = posted["ts"]
        else:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text, blocks=blocks)


class Replier:
    """Answers questions asked in threads, DMs and slash commands, each exactly once."""

    def __init__(self, answerer: Answerer, limiter: RateLimiter, state: SharedState, *,
                 stream_interval_s: float = 1.0) -> None:
        self.answerer = answerer
        self.limiter = limiter
        self.stream_interval_s = stream_interval_s
        # all three live in the shared state: a restart or another replica sees them too
        self.answered = Namespace(state, "answered", DAY_S)  # (channel, ts) and share claims
        self.threads = Namespace(state, "thread", 7 * DAY_S)  # where the bot spoke
        self.answers = Namespace(state, "answer", DAY_S)  # key -> Asked, for share and feedback

    def answer_message(self, client: WebClient, event: MessageEvent, question: str,
                       history: list[Turn]) -> None:
        """Reply to one message in its thread (DMs: directly), with 👀 while working."""
        if not self.answered.claim((event.channel, event.ts)):
            log.info("message %s/%s was already answered", event.channel, event.ts)
            return
        thread_ts = event.thread_ts or (None if event.is_dm else event.ts)
        reply = ThreadReply(client, event.channel, thread_ts, interval_s=self.stream_interval_s)
        if question.lower() in render.HELP_WORDS:
            self._post(reply, render.HELP, render.note_blocks(render.HELP), event, thread_ts)
            return
        refusal = self.refusal(event.user or "", question)
        if refusal:
            self.tell(client, event, refusal)
            return
        self._react(client, "reactions_add", event)
        try:
            text, blocks = self._reply_to(question, history, reply.on_token, event)
            self._post(reply, text, blocks, event, thread_ts)
        finally:
            self._react(client, "reactions_remove", event)

    def answer_privately(self, respond: Callable[..., object], user: str, question: str) -> None:
        """Answer a slash command where only the asker sees it, with a button to share it."""
        refusal = self.refusal(user, question)
        if refusal:
            try_call(respond, text=refusal, response_type="ephemeral")
            return
        try:
            answer = self._answer(question, [], on_token=None, where="a slash command")
            reply = {"text": render.fallback_text(answer),
                     "blocks": render.answer_blocks(answer, key=self.remember(question, answer),
                                                    share=True, asked=render.asked_line(question))}
        except NewsbotError as exc:  # a bad since:/until: date, the store down: its one line
            log.info("slash command from %s: %s", user, exc)
            reply = {"text": render.escape(str(exc))}
        except Exception:  # a fixed reply, details in the log
            log.exception("answering a slash command from %s failed", user)
            reply = {"text": render.FRIENDLY_ERROR}
        try_call(respond, response_type="ephemeral", **reply)

    def refusal(self, user: str, question: str) -> str | None:
        """The friendly reason not to answer (too long, too fast), or None."""
        if len(question) > MAX_QUESTION_CHARS:
            return render.TOO_LONG.format(limit=MAX_QUESTION_CHARS)
        if not self.limiter.allow(user):
            log.info("rate limit hit by %s", user)
            return render.RATE_LIMITED
        return None

    def tell(self, client: WebClient, event: MessageEvent, text: str) -> None:
        """A short note only the asker sees, in the thread they asked in."""
        try_call(client.chat_postEphemeral, channel=event.channel, user=event.user, text=text,
                 thread_ts=event.thread_ts)

    def remember(self, question: str, answer: Answer) -> str:
        """Keep an answer for its share and feedback buttons; returns the key the buttons carry."""
        key = uuid.uuid4().hex
        self.answers.put(key, Asked(question, answer).to_json())
        return key

    def asked(self, key: str) -> Asked | None:
        """The question and answer a button's key stands for, if still remembered."""
        return Asked.from_json(self.answers.get(key))

    def _reply_to(self, question: str, history: list[Turn], on_token: Callable[[str], None],
                  event: MessageEvent) -> tuple[str, list[dict]]:
        try:
            answer = self._answer(question, history, on_token=on_token, where=event.channel)
            return render.fallback_text(answer), render.answer_blocks(
                answer, key=self.remember(question, answer))
        except NewsbotError as exc:  # a bad since:/until: date, the store down: its one line
            log.info("message %s/%s: %s", event.channel, event.ts, exc)
            return render.escape(str(exc)), render.note_blocks(render.escape(str(exc)))
        except Exception:  # any failure gets the fixed reply; the details stay in the log
            log.exception("answering message %s/%s failed", event.channel, event.ts)
            return render.FRIENDLY_ERROR, render.note_blocks(render.FRIENDLY_ERROR)

    def _answer(self, question: str, history: list[Turn], *,
                on_token: Callable[[str], None] | None, where: str) -> Answer:
        started = time.perf_counter()
        log.debug("question in %s: %r", where, question)
        filters, question = split_filters(question)  # since:DATE until:DATE source:NAME
        answer = self.answerer.answer(question, history, on_token=on_token, **filters.as_kwargs())
        log.info("answered in %s: %d citations, abstained=%s, %.0f ms", where,
                 len(answer.citations), answer.abstained, (time.perf_counter() - started) * 1000)
        return answer

    def _post(self, reply: ThreadReply, text: str, blocks: list[dict],
              event: MessageEvent, thread_ts: str | None) -> None:
        try:
            reply.finish(text, blocks)
        except SLACK_ERRORS as exc:  # one line with Slack's error code, no traceback
            log.warning("posting the reply to %s/%s failed: %s", event.channel, event.ts,
                        error_code(exc))
            return
        if thread_ts:
            self.threads.put((event.channel, thread_ts), True)

    def _react(self, client: WebClient, method: str, event: MessageEvent) -> None:
        try_call(getattr(client, method), channel=event.channel, timestamp=event.ts,
                 name=PROGRESS_EMOJI)


def try_call(call: Callable[..., object], *args: object, **kwargs: object) -> bool:
    """Make a Slack call; a failure is one log line with its error code, never a traceback."""
    try:
        call(*args, **kwargs)
        return True
    except SLACK_ERRORS as exc:
        where = kwargs.get("channel")
        log.warning("%s%s failed: %s", getattr(call, "__name__", type(call).__name__.lower()),
                    f" in {where}" if where else "", error_code(exc))
        return False


def error_code(exc: Exception) -> str:
    """The Slack error code, or the network error in a few words: never text or tokens."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown error"))
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    reason = getattr(reason, "strerror", None) or reason  # URLError wraps the socket's error
    return f"{type(exc).__name__} ({reason})" if isinstance(reason, str) else type(exc).__name__
