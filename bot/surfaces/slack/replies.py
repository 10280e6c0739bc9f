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
from bot.surfaces.slack import render
from bot.surfaces.slack.dedupe import TTLCache
from bot.surfaces.slack.events import MessageEvent
from bot.surfaces.slack.limits import RateLimiter

log = logging.getLogger(__name__)
PROGRESS_EMOJI = "eyes"
SLACK_ERRORS = (SlackClientError, OSError)  # API errors, and network errors from urllib


@dataclass(frozen=True)
class Asked:
    """A question and the answer the bot gave, kept for sharing and feedback."""

    question: str
    answer: Answer


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
        """Post the final message, or replace the preview (blocks and all) with it."""
        with self._lock:
            self._send(text, blocks)

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

    def __init__(self, answerer: Answerer, limiter: RateLimiter, *,
                 stream_interval_s: float = 1.0) -> None:
        self.answerer = answerer
        self.limiter = limiter
        self.stream_interval_s = stream_interval_s
        self.answered = TTLCache(ttl_s=24 * 3600, max_items=100_000)  # (channel, ts) claims
        self.threads = TTLCache(ttl_s=7 * 24 * 3600, max_items=100_000)  # where the bot spoke
        self.answers = TTLCache(ttl_s=24 * 3600, max_items=2_000)  # key -> Asked

    def answer_message(self, client: WebClient, event: MessageEvent, question: str,
                       history: list[Turn]) -> None:
        """Reply to one message in its thread (DMs: directly), with 👀 while working."""
        if not self.answered.claim((event.channel, event.ts)):
            log.info("message %s/%s was already answered", event.channel, event.ts)
            return
        thread_ts = event.thread_ts or (None if event.is_dm else event.ts)
        reply = ThreadReply(client, event.channel, thread_ts, interval_s=self.stream_interval_s)
        if question.lower() in render.HELP_WORDS:
            self._settle(reply, render.HELP, render.note_blocks(render.HELP), event, thread_ts)
            return
        refusal = self.refusal(event.user or "", question)
        if refusal:
            self.tell(client, event, refusal)
            return
        self._react(client, "reactions_add", event)
        try:
            answer = self._answer(question, history, on_token=reply.on_token, where=event.channel)
            self._settle(reply, render.fallback_text(answer),
                         render.answer_blocks(answer, key=self.remember(question, answer)),
                         event, thread_ts)
        except Exception:  # any failure gets the fixed reply; the details stay in the log
            log.exception("answering message %s/%s failed", event.channel, event.ts)
            self._try(reply.finish, render.FRIENDLY_ERROR,
                      render.note_blocks(render.FRIENDLY_ERROR))
        finally:
            self._react(client, "reactions_remove", event)

    def answer_privately(self, respond: Callable[..., object], user: str, question: str) -> None:
        """Answer a slash command where only the asker sees it, with a button to share it."""
        refusal = self.refusal(user, question)
        if refusal:
            respond(text=refusal, response_type="ephemeral")
            return
        try:
            answer = self._answer(question, [], on_token=None, where="a slash command")
            respond(text=render.fallback_text(answer), response_type="ephemeral",
                    blocks=render.answer_blocks(answer, key=self.remember(question, answer),
                                                share=True, asked=render.asked_line(question)))
        except Exception:  # as above: a fixed reply, details in the log
            log.exception("answering a slash command from %s failed", user)
            self._try(respond, text=render.FRIENDLY_ERROR, response_type="ephemeral")

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
        self._try(client.chat_postEphemeral, channel=event.channel, user=event.user, text=text,
                  thread_ts=event.thread_ts)

    def remember(self, question: str, answer: Answer) -> str:
        """Keep an answer for its share and feedback buttons; returns the key the buttons carry."""
        key = uuid.uuid4().hex
        self.answers.put(key, Asked(question, answer))
        return key

    def _answer(self, question: str, history: list[Turn], *,
                on_token: Callable[[str], None] | None, where: str) -> Answer:
        started = time.perf_counter()
        log.debug("question in %s: %r", where, question)
        answer = self.answerer.answer(question, history, on_token=on_token)
        log.info("answered in %s: %d citations, abstained=%s, %.0f ms", where,
                 len(answer.citations), answer.abstained, (time.perf_counter() - started) * 1000)
        return answer

    def _settle(self, reply: ThreadReply, text: str, blocks: list[dict],
                event: MessageEvent, thread_ts: str | None) -> None:
        reply.finish(text, blocks)
        if thread_ts:
            self.threads.put((event.channel, thread_ts), True)

    def _react(self, client: WebClient, method: str, event: MessageEvent) -> None:
        self._try(getattr(client, method), channel=event.channel, timestamp=event.ts,
                  name=PROGRESS_EMOJI)

    @staticmethod
    def _try(call: Callable[..., object], *args: object, **kwargs: object) -> None:
        try:
            call(*args, **kwargs)
        except Exception as exc:  # progress and notes are best effort; never fail the answer
            log.warning("%s failed: %s", getattr(call, "__name__", "Slack call"), error_code(exc))


def error_code(exc: Exception) -> str:
    """The Slack error code or the exception type: never the request, the text or the token."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown error"))
    return type(exc).__name__
