"""Wiring: the Bolt app, its HTTP server or Socket Mode connection, and `newsbot slack` itself."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answering.answer import Answerer
from bot.errors import ConfigError
from bot.settings import Settings, SlackSettings
from bot.surfaces.plain import one_line
from bot.surfaces.slack import commands, conversations, dedupe, feedback
from bot.surfaces.slack.limits import RateLimiter, SlackRateLimitRetry
from bot.surfaces.slack.replies import DAY_S, SLACK_ERRORS, Replier, error_code
from bot.surfaces.slack.server import EVENTS_PATH, make_http_server
from bot.surfaces.slack.state import Namespace, open_state

log = logging.getLogger(__name__)
FEEDBACK_FILE = "slack-feedback.jsonl"
STATE_FILE = "slack-state.sqlite"
# How long a bot told to stop keeps answering the questions it has acknowledged: Slack does not
# send an acknowledged event again, so a question dropped here is never answered.
DRAIN_S = 30.0


def make_client(slack: SlackSettings) -> WebClient:
    """The Web API client, pointed at SLACK_API_URL, retrying when Slack says slow down."""
    client = WebClient(token=slack.bot_token.get_secret_value() if slack.bot_token else None,
                       base_url=slack.api_url, timeout=15)
    client.retry_handlers.append(SlackRateLimitRetry(max_retry_count=2))
    return client


def build_app(settings: Settings, slack: SlackSettings, answerer: Answerer,
              client: WebClient | None = None, *, stream_interval_s: float = 1.0,
              workers: ThreadPoolExecutor | None = None) -> App:
    """A Bolt app whose listeners answer through `answerer` in the pool `workers` (a new one of
    slack.workers threads by default); serve it over HTTP or Socket Mode."""
    client = client or make_client(slack)
    try:
        app = _bolt_app(slack, client, workers)
    except BoltError as exc:  # auth.test refused or failed, moments after check_token passed
        raise ConfigError(f"Slack's auth.test failed while the app started ({one_line(exc)}); "
                          "check SLACK_BOT_TOKEN, or start again if Slack was down") from exc
    except SLACK_ERRORS as exc:
        raise ConfigError(f"SLACK_API_URL {client.base_url} cannot be reached "
                          f"({error_code(exc)}).") from exc
    quiet_library_logs()
    state = open_shared_state(settings, slack)
    replier = Replier(answerer, RateLimiter(slack.rate_limit), state,
                      stream_interval_s=stream_interval_s)
    dedupe.register(app, Namespace(state, "delivery", DAY_S))
    conversations.register(app, replier, slack.channels)
    commands.register(app, replier, slack.channels)
    feedback.register(app, replier, feedback.FeedbackLog(settings.home / FEEDBACK_FILE))
    app.error(_log_error)
    return app


def _bolt_app(slack: SlackSettings, client: WebClient, workers: ThreadPoolExecutor | None) -> App:
    """Bolt's App over our client and pool; it runs auth.test once, here."""
    return App(
        name="newsbot", client=client,
        # Bolt copies the root logger's level unless given a base logger; this one lets the CLI
        # keep Bolt's INFO lines (which carry request bodies) out of the log below -vv
        logger=logging.getLogger("slack_bolt"),
        # "" rather than None: Bolt would otherwise read the environment itself
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else "",
        request_verification_enabled=not slack.socket_mode,
        # auth.test now, not on the first event: Bolt answers a failure there with a 200 that
        # asks to reinstall the app, and Slack never re-sends that event
        token_verification_enabled=True,
        process_before_response=True,  # acks run inline, so a busy pool never delays one
        listener_executor=workers or make_workers(slack),
    )


def make_workers(slack: SlackSettings) -> ThreadPoolExecutor:
    """The pool that answers: acknowledged questions wait in its queue."""
    return ThreadPoolExecutor(slack.workers, thread_name_prefix="newsbot-slack")


def open_shared_state(settings: Settings, slack: SlackSettings):
    """The exactly-once state every replica shares: with a Chroma server (and no
    NEWSBOT_SLACK_STATE), a collection on that server, which replicas on any host reach;
    else a SQLite file beside the index (replicas on this host)."""
    if settings.chroma_url and slack.state_file is None:
        from bot.factories import make_store
        from index.expiring import ExpiringState

        return ExpiringState(make_store(settings))
    return open_state(state_path(settings, slack))


def state_path(settings: Settings, slack: SlackSettings) -> Path:
    """Where deliveries and answers are remembered: NEWSBOT_SLACK_STATE, else beside the index."""
    return slack.state_file or settings.home / STATE_FILE


def check_token(client: WebClient) -> dict:
    """auth.test: who the bot is, or a one-line ConfigError when the token or URL is wrong."""
    try:
        return client.auth_test().data
    except SlackApiError as exc:
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({error_code(exc)}).") from exc
    except SLACK_ERRORS as exc:
        raise ConfigError(f"SLACK_API_URL {client.base_url} cannot be reached "
                          f"({error_code(exc)}).") from exc


def serve(settings: Settings, slack: SlackSettings, *, host: str = "0.0.0.0",
          port: int = 3000, watch: bool = False) -> int:
    """`newsbot slack`: check the token, load the answerer once, then serve until interrupted.

    watch: this process also polls the sources and indexes what is new (see watching.py).
    """
    from bot.factories import build_answerer, make_embedder, make_store

    client = make_client(slack)
    quiet_library_logs()  # an unreachable SLACK_API_URL is one line, not slack_sdk's two first
    me = check_token(client)
    server = None if slack.socket_mode else make_http_server(
        host, port, backlog=slack.backlog, idle_timeout=slack.idle_timeout)
    store, embedder = make_store(settings, must_exist=True), make_embedder(settings)
    workers = make_workers(slack)
    app = build_app(settings, slack, build_answerer(settings, store=store, embedder=embedder,
                                                    follow=True), client, workers=workers)
    stop_watch = None
    if watch:
        from bot.surfaces.watching import watch_in_background

        stop_watch = watch_in_background(
            settings, store, embedder,
            lambda line: print(f"newsbot watch: {line}", file=sys.stderr, flush=True))
    who = f"{me.get('user', 'the bot')} in {me.get('team', 'its workspace')}"
    terminated = _exit_on_sigterm()
    try:
        if server is None:
            _run_socket_mode(app, slack, who)
        else:
            server.set_app(app)
            print(f"newsbot: answering Slack as {who} at http://{host}:{server.port}"
                  f"{EVENTS_PATH} (Ctrl-C stops)", file=sys.stderr, flush=True)
            server.serve_forever()  # returns when stopped: waitress swallows the signal
    except (KeyboardInterrupt, SystemExit):
        pass
    if server is not None:
        server.stop_listening()  # new deliveries fail now (Slack retries them), not hang
    if stop_watch is not None:
        stop_watch.set()  # the watcher ends after the article it is writing
    finish(workers)
    return 0 if terminated.is_set() else 130


def _exit_on_sigterm() -> threading.Event:
    """Make SIGTERM (a deploy, `docker stop`, systemd) stop serving as Ctrl-C does, so the
    questions already acknowledged are still answered; the event says it came."""
    terminated = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        if terminated.is_set():
            return  # passed on again (`timeout`, a process group): the drain goes on
        terminated.set()
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)
    return terminated


def finish(workers: ThreadPoolExecutor, timeout_s: float = DRAIN_S) -> None:
    """Answer what was acknowledged before the stop (Slack will not send it again), for at most
    timeout_s; a second Ctrl-C stops at once."""
    done = threading.Thread(target=workers.shutdown, daemon=True)
    done.start()
    done.join(1.0)
    if done.is_alive():
        print(f"newsbot: stopping; answering the questions already received (up to "
              f"{timeout_s:.0f} s, Ctrl-C again stops now)", file=sys.stderr, flush=True)
        done.join(timeout_s - 1.0)
    if done.is_alive():
        print("newsbot: stopped with questions still unanswered", file=sys.stderr, flush=True)


def connect_socket_mode(app: App, slack: SlackSettings) -> SocketModeHandler:
    """Open the Socket Mode connection (apps.connections.open, then the WebSocket)."""
    handler = SocketModeHandler(app, app_token=slack.app_token.get_secret_value())
    try:
        handler.connect()
    except SLACK_ERRORS as exc:
        raise ConfigError(f"SLACK_APP_TOKEN: no Socket Mode connection "
                          f"({error_code(exc)}).") from exc
    return handler


def _run_socket_mode(app: App, slack: SlackSettings, who: str) -> None:
    handler = connect_socket_mode(app, slack)
    print(f"newsbot: answering Slack as {who} over Socket Mode (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()  # the client's own threads receive, ack and reconnect
    finally:
        handler.close()  # no new events; finish() answers those already acknowledged


def _log_error(error: Exception, body: dict) -> None:
    """Bolt's last resort: one line at WARNING, the traceback only at DEBUG, no payload text."""
    log.warning("request %s failed: %s", dedupe.delivery_key(body) or body.get("type", "?"),
                type(error).__name__)
    log.debug("details", exc_info=error)


class _DropSendErrors(logging.Filter):
    """slack_sdk logs every failed send at ERROR; newsbot logs it once, with the error code."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to send a request to Slack API")


def quiet_library_logs() -> None:
    """Keep a burst or an outage to newsbot's own one line per event (idempotent)."""
    for name in ("slack_sdk.web.base_client", "slack_sdk.webhook.client"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropSendErrors) for f in logger.filters):
            logger.addFilter(_DropSendErrors())
