"""Exactly-once delivery: a bounded, expiring memory of what was already seen, shared by threads.

Slack redelivers an event it thinks was not acknowledged (HTTP `X-Slack-Retry-Num`, Socket Mode
`retry_attempt`) with the same `event_id`. The middleware here drops every delivery after the
first, for as long as the process runs, in memory that never grows past `max_items`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger(__name__)


class TTLCache:
    """A thread-safe dict whose entries expire after `ttl_s`, holding at most `max_items`."""

    def __init__(self, ttl_s: float, max_items: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clock = clock
        self._items: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, key: Hashable) -> bool:
        """True the first time a key is seen (within the TTL), False for every repeat."""
        with self._lock:
            if self._live(key):
                return False
            self._store(key, True)
            return True

    def put(self, key: Hashable, value: object) -> None:
        """Remember a value, evicting the oldest entries beyond max_items."""
        with self._lock:
            self._store(key, value)

    def get(self, key: Hashable, default: object = None) -> object:
        """The value if it is still remembered."""
        with self._lock:
            return self._items[key][1] if self._live(key) else default

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _live(self, key: Hashable) -> bool:
        entry = self._items.get(key)
        if entry is None:
            return False
        if self._clock() - entry[0] > self.ttl_s:
            del self._items[key]
            return False
        return True

    def _store(self, key: Hashable, value: object) -> None:
        self._items[key] = (self._clock(), value)
        self._items.move_to_end(key)
        now = self._clock()
        while self._items:
            oldest_key, (born, _) = next(iter(self._items.items()))
            if len(self._items) <= self.max_items and now - born <= self.ttl_s:
                break
            del self._items[oldest_key]


def delivery_key(body: dict) -> str | None:
    """What identifies one delivery across retries: event_id, or a command's/click's trigger_id."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}"
    if body.get("command") and body.get("trigger_id"):
        return f"command:{body['trigger_id']}"
    if body.get("type") == "block_actions" and body.get("trigger_id"):
        return f"action:{body['trigger_id']}"
    return None


def register(app: App, seen: TTLCache) -> None:
    """Acknowledge and drop any delivery whose key was already seen."""

    @app.middleware
    def drop_redeliveries(req: BoltRequest, resp: BoltResponse, next: Callable) -> BoltResponse:
        key = delivery_key(req.body)
        if key is None or seen.claim(key):
            return next()
        log.info("dropped a redelivery of %s (retry %s)", key,
                 req.headers.get("x-slack-retry-num", [req.body.get("retry_attempt", "-")])[0])
        return BoltResponse(status=200, body="")
