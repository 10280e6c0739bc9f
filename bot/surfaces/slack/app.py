"""Wiring: the Bolt app, its HTTP server or Socket Mode connection, and `newsbot slack` itself."""

from __future__ import annotations

import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.answering.answer import Answerer
from bot.errors import ConfigError
from bot.settings import Settings, SlackSettings
from bot.surfaces.slack import commands, conversations, dedupe, feedback
from bot.surfaces.slack.events import well_formed
from bot.surfaces.slack.limits import RateLimiter
from bot.surfaces.slack.replies import SLACK_ERRORS, Replier, error_code

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
FEEDBACK_FILE = "slack-feedback.jsonl"


def make_client(slack: SlackSettings) -> WebClient:
    """The Web API client, pointed at SLACK_API_URL, retrying when Slack says slow down."""
    client = WebClient(token=slack.bot_token.get_secret_value() if slack.bot_token else None,
                       base_url=slack.api_url, timeout=15)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return client


def build_app(settings: Settings, slack: SlackSettings, answerer: Answerer,
              client: WebClient | None = None, *, stream_interval_s: float = 1.0) -> App:
    """A Bolt app whose listeners answer through `answerer`; serve it over HTTP or Socket Mode."""
    client = client or make_client(slack)
    app = App(
        name="newsbot", client=client,
        # Bolt copies the root logger's level unless given a base logger; this one lets the CLI
        # keep Bolt's INFO lines (which carry request bodies) out of the log below -vv
        logger=logging.getLogger("slack_bolt"),
        # "" rather than None: Bolt would otherwise read the environment itself
        signing_secret=slack.signing_secret.get_secret_value() if slack.signing_secret else "",
        request_verification_enabled=not slack.socket_mode,
        token_verification_enabled=False,  # serve() checks the token before the slow model load
        process_before_response=True,  # acks run inline, so a busy pool never delays one
        listener_executor=ThreadPoolExecutor(slack.workers, thread_name_prefix="newsbot-slack"),
    )
    replier = Replier(answerer, RateLimiter(slack.rate_limit), stream_interval_s=stream_interval_s)
    dedupe.register(app, dedupe.TTLCache(ttl_s=24 * 3600, max_items=100_000))
    conversations.register(app, replier, slack.channels)
    commands.register(app, replier, slack.channels)
    feedback.register(app, replier, feedback.FeedbackLog(settings.home / FEEDBACK_FILE))
    app.error(_log_error)
    return app


def check_token(client: WebClient) -> dict:
    """auth.test: who the bot is, or a one-line ConfigError when the token or URL is wrong."""
    try:
        return client.auth_test().data
    except SlackApiError as exc:
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack ({error_code(exc)}).") from exc
    except SLACK_ERRORS as exc:
        raise ConfigError(f"SLACK_API_URL {client.base_url} cannot be reached "
                          f"({error_code(exc)}).") from exc


class EventsEndpoint(SlackRequestHandler):
    """Bolt's WSGI adapter, but a body Bolt cannot parse gets a 400, not a 500 and a traceback."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """Parse the request (refusing garbage), then let Bolt verify and route it."""
        try:
            bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                       headers=request.get_headers())
        except ValueError:  # not JSON, or a form whose payload is not JSON
            bolt_request = None
        if bolt_request is None or not well_formed(bolt_request.body):
            log.warning("refused a request whose body is not a Slack payload")
            return BoltResponse(status=400, body="")
        return self.app.dispatch(bolt_request)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request, so a slow client never holds up an ack."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        log.debug("%s " + format, self.client_address[0], *args)


def make_http_server(host: str, port: int, app: App | None = None) -> WSGIServer:
    """Bind host:port now (so a busy port fails fast); requests go to `app` at /slack/events."""
    try:
        server = make_server(host, port, None, server_class=ThreadingWSGIServer,
                             handler_class=_QuietHandler)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}).") from exc
    if app is not None:
        server.set_app(EventsEndpoint(app, path=EVENTS_PATH))
    return server


def serve(settings: Settings, slack: SlackSettings, *, host: str = "0.0.0.0",
          port: int = 3000) -> int:
    """`newsbot slack`: check the token, load the answerer once, then serve until interrupted."""
    from bot.factories import build_answerer

    client = make_client(slack)
    me = check_token(client)
    server = None if slack.socket_mode else make_http_server(host, port)
    app = build_app(settings, slack, build_answerer(settings, follow=True), client)
    who = f"{me.get('user', 'the bot')} in {me.get('team', 'its workspace')}"
    if server is None:
        return _run_socket_mode(app, slack, who)
    server.set_app(EventsEndpoint(app, path=EVENTS_PATH))
    print(f"newsbot: answering Slack as {who} at http://{host}:{server.server_port}{EVENTS_PATH}"
          " (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def connect_socket_mode(app: App, slack: SlackSettings) -> SocketModeHandler:
    """Open the Socket Mode connection (apps.connections.open, then the WebSocket)."""
    handler = SocketModeHandler(app, app_token=slack.app_token.get_secret_value())
    try:
        handler.connect()
    except SLACK_ERRORS as exc:
        raise ConfigError(f"SLACK_APP_TOKEN: no Socket Mode connection "
                          f"({error_code(exc)}).") from exc
    return handler


def _run_socket_mode(app: App, slack: SlackSettings, who: str) -> int:
    handler = connect_socket_mode(app, slack)
    print(f"newsbot: answering Slack as {who} over Socket Mode (Ctrl-C stops)",
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()  # the client's own threads receive, ack and reconnect
    finally:
        handler.close()
    return 0


def _log_error(error: Exception, body: dict) -> None:
    """Bolt's last resort: one line at WARNING, the traceback only at DEBUG, no payload text."""
    log.warning("request %s failed: %s", dedupe.delivery_key(body) or body.get("type", "?"),
                type(error).__name__)
    log.debug("details", exc_info=error)
