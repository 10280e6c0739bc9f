"""The HTTP side of Slack mode: Bolt's WSGI adapter served by waitress.

waitress accepts connections on one event loop (poll) and hands complete requests to a small
thread pool, so idle or slow clients hold a socket, never a thread; its listen backlog absorbs a
burst; a connection idle for `idle_timeout` seconds is closed. Acks run inline in those threads
(Bolt's process_before_response), the answering itself in the app's listener pool.
"""

from __future__ import annotations

import logging

import waitress
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from waitress import wasyncore

from bot.errors import ConfigError
from bot.surfaces.slack.events import well_formed

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HTTP_THREADS = 8  # an ack is ~1 ms of CPU; more threads only help while SQLite waits on a lock
MAX_CONNECTIONS = 1000  # open sockets; beyond it new ones wait in the backlog


class EventsEndpoint(SlackRequestHandler):
    """Bolt's WSGI adapter, but a body Bolt cannot parse gets a 400, not a 500 and a traceback."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        """Parse the request (refusing garbage), then let Bolt verify and route it."""
        headers = request.get_headers()
        if not str(headers.get("x-slack-request-timestamp", "0")).isdigit():
            log.warning("refused a request whose timestamp is not a number")
            return BoltResponse(status=401, body="")  # Bolt's verifier would raise on it
        try:
            bolt_request = BoltRequest(body=request.get_body(), query=request.query_string,
                                       headers=headers)
        except (ValueError, TypeError, AttributeError):  # not JSON, a form whose payload is not
            bolt_request = None                         # JSON, or JSON that is not an object
        if bolt_request is None or not well_formed(bolt_request.body):
            log.warning("refused a request whose body is not a Slack payload")
            return BoltResponse(status=400, body="")
        return self.app.dispatch(bolt_request)


class HttpServer:
    """A bound waitress server: serve_forever() in one thread, shutdown() from any other."""

    def __init__(self, host: str, port: int, app: App | None, *, backlog: int,
                 idle_timeout: int) -> None:
        self._map: dict = {}
        self._endpoint = EventsEndpoint(app, path=EVENTS_PATH) if app is not None else None
        self._server = waitress.create_server(
            self._route, map=self._map, host=host, port=port, backlog=backlog,
            threads=HTTP_THREADS, connection_limit=MAX_CONNECTIONS,
            channel_timeout=idle_timeout, cleanup_interval=max(1, min(30, idle_timeout // 2)),
            asyncore_use_poll=True,  # select() stops at 1024 sockets
            clear_untrusted_proxy_headers=True, ident="newsbot")

    @property
    def port(self) -> int:
        """The port it listens on (the real one when 0 was asked for)."""
        return int(self._server.effective_port)

    def set_app(self, app: App) -> None:
        """Route /slack/events to this Bolt app from now on."""
        self._endpoint = EventsEndpoint(app, path=EVENTS_PATH)

    def serve_forever(self) -> None:
        """Serve until shutdown() or Ctrl-C (which waitress turns into a clean return)."""
        self._server.run()

    def stop_listening(self) -> None:
        """Close the listening socket once serving has stopped: a connection waiting in the
        backlog is reset and a new one refused, so Slack retries it elsewhere or later."""
        self._server.close()

    def shutdown(self) -> None:
        """Close every socket from inside the loop (so serve_forever returns), stop the threads."""
        self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._map))
        self._server.task_dispatcher.shutdown(timeout=2)

    def _route(self, environ: dict, start_response):
        if self._endpoint is None:  # bound before the model loaded: not ready yet
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return self._endpoint(environ, start_response)


def make_http_server(host: str, port: int, app: App | None = None, *, backlog: int = 2048,
                     idle_timeout: int = 75) -> HttpServer:
    """Bind host:port now (so a busy port fails fast); requests go to `app` at /slack/events."""
    # a burst queues requests by design; one warning per queued request would flood the log
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        return HttpServer(host, port, app, backlog=backlog, idle_timeout=idle_timeout)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}).") from exc
