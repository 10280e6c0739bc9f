"""A local stand-in for Slack: a Web API on 127.0.0.1 that records every call, signed requests
built exactly as Slack builds them, and the bot served over a real socket."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, quote, urlsplit

from bot.measurement.newsroom import serve_local, stop_serving

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-1-test-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
TEAM = "T0001"


@dataclass
class Call:
    """One request the bot made: API method (or 'respond' for a response_url), body, when."""

    method: str
    body: dict
    at: float
    path: str = ""


@dataclass
class FakeSlack:
    """Slack's Web API as far as newsbot uses it; threads remember what is posted in them."""

    calls: list[Call] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # seconds before a method answers
    throttled: dict[str, list[str]] = field(default_factory=dict)  # 429s (their Retry-After) first
    wss_url: str | None = None
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _busy: int = 0  # requests being answered

    def start(self) -> FakeSlack:
        """Serve on a free port in a daemon thread."""
        self.server = serve_local(_handler(self))
        return self

    def stop(self) -> None:
        """Stop serving, once the requests being answered have had their responses (a call that
        was recorded must not then fail only because its response was cut off)."""
        with self._cond:
            self._cond.wait_for(lambda: self._busy == 0, timeout=5)
        stop_serving(self.server)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL is set to."""
        return f"{self.root}/api/"

    def response_url(self, name: str) -> str:
        """A response_url for a slash command or a click; posts to it are recorded as 'respond'."""
        return f"{self.root}/respond/{name}"

    def add_message(self, channel: str, ts: str, *, user: str, text: str,
                    thread_ts: str | None = None) -> dict:
        """Put a person's message into a thread, as Slack would store it."""
        message = {"type": "message", "user": user, "text": text, "ts": ts,
                   "thread_ts": thread_ts or ts}
        with self._cond:
            self.threads.setdefault((channel, thread_ts or ts), []).append(message)
        return message

    def calls_to(self, method: str, *, url: str | None = None, **match: object) -> list[Call]:
        """Recorded calls to a method (and URL) whose body has all the given values."""
        path = urlsplit(url).path if url else None
        with self._cond:
            return [c for c in self.calls if c.method == method and path in (None, c.path)
                    and all(c.body.get(k) == v for k, v in match.items())]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20, *,
                 url: str | None = None, **match: object) -> list[Call]:
        """Block until `count` matching calls were made; fail with what was seen instead."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(found := self.calls_to(method, url=url, **match)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.body.get("channel")) for c in self.calls[-10:]]
                    raise AssertionError(f"{len(found)}/{count} {method} {match}; last: {seen}")
                self._cond.wait(left)
            return found

    def record(self, call: Call) -> dict | str:
        """Keep a call and make Slack's answer to it."""
        with self._cond:
            self.calls.append(call)
            reply = self._reply(call)
            self._cond.notify_all()
        return reply

    def _reply(self, call: Call) -> dict | str:
        if call.method == "respond":
            return "ok"
        if call.method in self.errors:
            return {"ok": False, "error": self.errors[call.method]}
        body = call.body
        if call.method == "auth.test":
            return {"ok": True, "url": "https://newsbot-test.slack.com/", "team": "Test",
                    "user": "newsbot", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        if call.method == "chat.postMessage":
            ts = f"1800000000.{next(self._ts):06d}"
            message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts,
                       "text": body.get("text", ""), "thread_ts": body.get("thread_ts")}
            if body.get("thread_ts"):
                self.threads.setdefault((body["channel"], body["thread_ts"]), []).append(message)
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}
        if call.method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"),
                    "text": body.get("text", "")}
        if call.method == "conversations.replies":
            messages = self.threads.get((body.get("channel"), body.get("ts")))
            if messages is None:
                return {"ok": False, "error": "thread_not_found"}
            return {"ok": True, "messages": list(messages), "has_more": False}
        if call.method == "apps.connections.open":
            return {"ok": True, "url": self.wss_url}
        return {"ok": True}


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve(dict(parse_qsl(urlsplit(self.path).query)))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                self._serve(json.loads(raw or "{}"))
            else:
                self._serve(dict(parse_qsl(raw)))

        def _serve(self, body: dict) -> None:
            with fake._cond:
                fake._busy += 1
            try:
                self._answer(body)
            finally:
                with fake._cond:
                    fake._busy -= 1
                    fake._cond.notify_all()

        def _answer(self, body: dict) -> None:
            path = urlsplit(self.path).path
            method = "respond" if path.startswith("/respond/") else path.rsplit("/", 1)[-1]
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if method != "respond" and token not in (BOT_TOKEN, APP_TOKEN):
                reply: dict | str = {"ok": False, "error": "invalid_auth"}
            elif fake.throttled.get(method):
                fake.record(Call(f"{method} (429)", _decode(body), time.monotonic(), path))
                data = b'{"ok": false, "error": "ratelimited"}'
                self.send_response(429)
                self.send_header("Retry-After", fake.throttled[method].pop(0))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            else:
                reply = fake.record(Call(method, _decode(body), time.monotonic(), path))
                time.sleep(fake.delays.get(method, 0.0))
            data = (reply if isinstance(reply, str) else json.dumps(reply)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if isinstance(reply, str)
                             else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def _decode(body: dict) -> dict:
    """Form-encoded calls carry blocks as a JSON string; make them comparable with JSON calls."""
    if isinstance(body.get("blocks"), str):
        body = {**body, "blocks": json.loads(body["blocks"])}
    return body


# ---- requests as Slack sends them -----------------------------------------------------------

@dataclass
class Sent:
    """What the bot answered to one request, and how long that took."""

    status: int
    body: str
    seconds: float


def signature(body: str, timestamp: int | str, secret: str = SIGNING_SECRET) -> str:
    """Slack's request signature: v0= HMAC-SHA256 of 'v0:{timestamp}:{body}'."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def send(url: str, body: str, *, content_type: str = "application/json",
         timestamp: int | None = None, secret: str = SIGNING_SECRET,
         headers: dict[str, str] | None = None) -> Sent:
    """POST a signed request to the bot, as Slack does."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(body, timestamp, secret), **(headers or {})})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Sent(response.status, response.read().decode(), time.perf_counter() - started)
    except urllib.error.HTTPError as exc:
        return Sent(exc.code, exc.read().decode(), time.perf_counter() - started)


_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    """A fresh Slack-style id (C..., U..., Ev...), so tests never see each other's calls."""
    return f"{prefix}{next(_ids):06d}"


def new_ts() -> str:
    """A fresh message timestamp."""
    return f"1700000000.{next(_ids):06d}"


def event_callback(event: dict, event_id: str | None = None) -> str:
    """The Events API envelope around one event."""
    return json.dumps({
        "token": "unused", "team_id": TEAM, "api_app_id": "A0001", "type": "event_callback",
        "event_id": event_id or new_id("Ev"), "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}]})


def message(channel: str, text: str, *, user: str = "U0000001", ts: str | None = None,
            thread_ts: str | None = None, type: str = "message", **extra: object) -> dict:
    """A message or app_mention event."""
    event = {"type": type, "channel": channel, "user": user, "text": text,
             "ts": ts or new_ts(), "channel_type": "im" if channel.startswith("D") else "channel",
             **extra}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def mention(channel: str, question: str, **kwargs: object) -> dict:
    """An app_mention event for a question."""
    return message(channel, f"<@{BOT_USER}> {question}".rstrip(), type="app_mention", **kwargs)


def slash_command(text: str, *, channel: str, user: str, response_url: str) -> str:
    """A slash command's form body."""
    fields = {"token": "unused", "team_id": TEAM, "channel_id": channel, "user_id": user,
              "command": "/newsbot", "text": text, "api_app_id": "A0001",
              "response_url": response_url, "trigger_id": new_id("TR")}
    return "&".join(f"{k}={quote(v)}" for k, v in fields.items())


def button_click(action_id: str, value: str, *, channel: str, user: str, response_url: str,
                 message_ts: str | None = None, message_text: str = "") -> str:
    """A block_actions form body for a click on one of the bot's buttons."""
    payload = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user},
        "api_app_id": "A0001", "trigger_id": new_id("TR"), "response_url": response_url,
        "channel": {"id": channel},
        "container": {"type": "message", "message_ts": message_ts, "is_ephemeral": not message_ts},
        "actions": [{"action_id": action_id, "block_id": "newsbot_answer", "value": value,
                     "type": "button", "action_ts": "1700000000.1"}]}
    if message_ts:
        payload["message"] = {"type": "message", "ts": message_ts, "text": message_text}
    return "payload=" + quote(json.dumps(payload))


@contextmanager
def bot_server(app, **options: int):
    """The bot's HTTP server on a free port, in a thread; yields its /slack/events URL."""
    from bot.measurement.bench_slack import serving
    from bot.surfaces.slack.server import make_http_server

    with serving(make_http_server("127.0.0.1", 0, app, **options)) as url:
        yield url


def slack_settings(fake: FakeSlack, **overrides: object):
    """SlackSettings for the fake, every field given, so the environment and .env play no part."""
    from bot.settings import SlackSettings

    values = {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET, "app_token": None,
              "api_url": fake.api_url, "channels": [], "rate_limit": 10, "workers": 8}
    return SlackSettings(_env_file=None, **{**values, **overrides})


class CannedAnswerer:
    """Plumbing tests' Answerer: one fixed cited answer, instantly, or the given error."""

    def __init__(self, error: Exception | None = None, tokens: list[str] | None = None,
                 token_delay_s: float = 0.0) -> None:
        self.error, self.tokens, self.token_delay_s = error, tokens or [], token_delay_s
        self.asked: list[tuple[str, list]] = []

    def answer(self, question: str, history: list | None = None, on_token=None):
        """Stream the tokens through on_token, then raise the error or return the Answer."""
        from bot.answering.answer import Answer
        from bot.answering.citations import Citation

        self.asked.append((question, list(history or [])))
        for token in self.tokens:
            time.sleep(self.token_delay_s)
            if on_token is not None:
                on_token(token)
        if self.error is not None:
            raise self.error
        return Answer(question=question, abstained=False, answered_by="canned",
                      answer="About 28,500 American soldiers are stationed in South Korea. [1]",
                      citations=[Citation(n=1, article_id="a1", title="US troops in Korea",
                                          source="Reuters", date="2025-11-03",
                                          location="https://example.com/a?x=1&y=2",
                                          quote="About 28,500 American soldiers are stationed.")])
