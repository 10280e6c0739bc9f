"""Exactly-once delivery: each delivery is claimed in the shared state before it is acked.

Slack redelivers an event it thinks was not acknowledged (HTTP `X-Slack-Retry-Num`, Socket Mode
`retry_attempt`) with the same `event_id`. The middleware here drops every delivery after the
first, across restarts and across every process that shares the state file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

from bot.surfaces.slack.state import Namespace

log = logging.getLogger(__name__)


def delivery_key(body: dict) -> str | None:
    """What identifies one delivery across retries: event_id, or a command's/click's trigger_id."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        return f"action:{body['trigger_id']}"
    return None


def register(app: App, seen: Namespace) -> None:
    """Acknowledge and drop any delivery whose key was already claimed."""

    @app.middleware
    def drop_redeliveries(req: BoltRequest, resp: BoltResponse, next: Callable) -> BoltResponse:
        key = delivery_key(req.body)
        if key is None or seen.claim(key):
            return next()
        log.info("dropped a redelivery of %s (retry %s)", key,
                 req.headers.get("x-slack-retry-num", [req.body.get("retry_attempt", "-")])[0])
        return BoltResponse(status=200, body="")
