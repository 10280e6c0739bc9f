"""Slack HTTP mode under a burst: ack latency and connection resets for N concurrent events.

The bot answers over the seed index against a local stand-in for Slack's Web API, served by
newsbot's server (waitress) and, in the same run, by the dev server it replaced (wsgiref, a
thread per connection, listen backlog 5). Every event is signed as Slack signs it and comes
from its own user, on its own connection, all released at once.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from tempfile import TemporaryDirectory
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from langchain_core.embeddings import Embeddings

from bot.answering.answer import Answerer
from bot.measurement.evaluation import percentile
from bot.settings import Settings, SlackSettings
from index.ingest import ingest
from index.connection import open_store
from index.store import ChunkStore

Report = Callable[[str], None]
SECRET = "bench-signing-secret"
QUESTION = "How many US troops are in Korea?"
RESETS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
          http.client.RemoteDisconnected)


@dataclass
class Burst:
    """What N concurrent events got back: ack times (s) of the 200s, resets, other failures."""

    events: int
    acks: list[float] = field(default_factory=list)
    resets: int = 0
    errors: list[str] = field(default_factory=list)

    def figures(self, prefix: str) -> dict:
        """Flat figures for `bench --json`."""
        ms = [s * 1000 for s in self.acks] or [0.0]
        return {f"{prefix}_acked": len(self.acks), f"{prefix}_resets": self.resets,
                f"{prefix}_errors": len(self.errors), f"{prefix}_ack_ms_p50": percentile(ms, 50),
                f"{prefix}_ack_ms_p95": percentile(ms, 95), f"{prefix}_ack_ms_max": round(max(ms))}


def bench_slack(embedder: Embeddings, answerer_factory: Callable[[ChunkStore], Answerer],
                report: Report, sizes: tuple[int, ...] = (50, 200)) -> dict:
    """Bursts of each size against newsbot's server and the old dev server, same run."""
    from bot.surfaces.slack.server import make_http_server

    figures: dict = {}
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    with TemporaryDirectory() as tmp, fake_web_api() as api:
        store = open_store(Path(tmp) / "index", None, "bench-slack")
        ingest([seeds], store, embedder)
        answerer = answerer_factory(store)
        servers = {"waitress": lambda app: make_http_server("127.0.0.1", 0, app),
                   "devserver": dev_server}
        for name, make in servers.items():
            app = bench_app(Path(tmp) / name, api, answerer)
            with serving(make(app)) as url:
                for n in sizes:
                    before = api.posts
                    burst = send_burst(url, n)
                    api.wait_for_posts(before + len(burst.acks), timeout=120)  # quiet again
                    figures.update(burst.figures(f"slack_{name}_{n}"))
        report_figures(figures, sizes, report)
    return figures


def report_figures(figures: dict, sizes: tuple[int, ...], report: Report) -> None:
    """One line per burst size: newsbot's server, the dev server, and the p95 ratio."""
    for n in sizes:
        ours, old = (f"slack_{s}_{n}" for s in ("waitress", "devserver"))
        ratio = figures[f"{ours}_ack_ms_p95"] / max(figures[f"{old}_ack_ms_p95"], 1e-9)
        report(f"slack burst of {n} signed events: waitress {_line(figures, ours, n)} · "
               f"old dev server {_line(figures, old, n)} · p95 ratio {ratio:.2f}")


def _line(figures: dict, prefix: str, n: int) -> str:
    return (f"{figures[f'{prefix}_acked']}/{n} acked, {figures[f'{prefix}_resets']} resets, "
            f"{figures[f'{prefix}_errors']} errors, ack p50 {figures[f'{prefix}_ack_ms_p50']} ms "
            f"p95 {figures[f'{prefix}_ack_ms_p95']} ms max {figures[f'{prefix}_ack_ms_max']} ms")


def bench_app(home: Path, api: FakeWebApi, answerer: Answerer):
    """The production Bolt app, pointed at the stand-in Web API, with no rate limit."""
    from bot.surfaces.slack.app import build_app

    slack = SlackSettings(_env_file=None, bot_token="xoxb-bench", signing_secret=SECRET,
                          api_url=api.url, rate_limit=0)
    return build_app(Settings(_env_file=None, home=home), slack, answerer)


def send_burst(url: str, n: int) -> Burst:
    """n signed app_mention events, each on its own connection, released together."""
    burst, lock = Burst(n), threading.Lock()
    gate = threading.Barrier(n)
    stamp = f"{time.time():.0f}"
    threads = [threading.Thread(target=_send_one, args=(url, i, stamp, gate, burst, lock))
               for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return burst


def _send_one(url: str, i: int, stamp: str, gate: threading.Barrier, burst: Burst,
              lock: threading.Lock) -> None:
    host, port = url.split("//")[1].split("/")[0].split(":")
    body = signed_event(i, stamp)
    gate.wait(timeout=60)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", "/slack/events", body=body, headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": _signature(body, stamp)})
        status = conn.getresponse().status
        outcome: object = time.perf_counter() - started if status == 200 else f"HTTP {status}"
    except RESETS:
        outcome = None
    except OSError as exc:
        outcome = type(exc).__name__
    finally:
        conn.close()
    with lock:
        if isinstance(outcome, float):
            burst.acks.append(outcome)
        elif outcome is None:
            burst.resets += 1
        else:
            burst.errors.append(str(outcome))


def signed_event(i: int, stamp: str) -> str:
    """An app_mention in its own channel from its own user (no rate limit, no thread mixing)."""
    uid = f"{time.monotonic_ns()}{i}"[-9:]
    return json.dumps({
        "token": "unused", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
        "event_id": f"Ev{uid}", "event_time": int(stamp),
        "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        "event": {"type": "app_mention", "channel": f"C{uid}", "user": f"U{uid}",
                  "text": f"<@UBOT> {QUESTION}", "ts": f"1700000000.{uid[-6:]}"}})


def _signature(body: str, stamp: str) -> str:
    return "v0=" + hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(),
                            hashlib.sha256).hexdigest()


# ---- the servers and the stand-in for Slack -------------------------------------------------

class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """The dev server newsbot used before waitress: a thread per connection, backlog 5."""

    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def dev_server(app) -> _ThreadingWSGIServer:
    """The baseline: wsgiref as newsbot served Slack until waitress replaced it."""
    from bot.surfaces.slack.server import EVENTS_PATH, EventsEndpoint

    server = make_server("127.0.0.1", 0, EventsEndpoint(app, path=EVENTS_PATH),
                         server_class=_ThreadingWSGIServer, handler_class=_Quiet)
    server.port = server.server_port
    return server


@contextmanager
def serving(server) -> Iterator[str]:
    """Serve in a thread until the block ends; yields the /slack/events URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/slack/events"
    finally:
        server.shutdown()
        thread.join(timeout=10)


class FakeWebApi(ThreadingHTTPServer):
    """Every Web API method answers ok; chat.postMessage calls are counted."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ApiHandler)
        self.posts = 0
        self.cond = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/api/"

    def wait_for_posts(self, count: int, timeout: float) -> bool:
        """Block until `count` answers were posted (or the timeout passed)."""
        with self.cond:
            return self.cond.wait_for(lambda: self.posts >= count, timeout)


class _ApiHandler(BaseHTTPRequestHandler):
    server: FakeWebApi

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/chat.postMessage"):
            with self.server.cond:
                self.server.posts += 1
                self.server.cond.notify_all()
        data = json.dumps({"ok": True, "ts": "1800000000.000001", "channel": "C1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def fake_web_api() -> Iterator[FakeWebApi]:
    """The stand-in Web API on a free port, for the duration of the block."""
    api = FakeWebApi()
    threading.Thread(target=api.serve_forever, daemon=True).start()
    try:
        yield api
    finally:
        api.shutdown()
        api.server_close()


def main() -> None:
    """`python -m bot.measurement.bench_slack`: only these figures, over the seed index."""
    from bot.factories import build_answerer, make_embedder
    from bot.settings import load_settings

    settings = load_settings()
    embedder = make_embedder(settings)
    print(json.dumps(bench_slack(embedder, lambda store: build_answerer(
        settings, store=store, embedder=embedder), print)))


if __name__ == "__main__":
    main()
