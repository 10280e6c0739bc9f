"""Access and abuse controls: the channel allowlist, a per-user rate limit, and how long to
wait when Slack limits us."""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

# The longest a worker sleeps on Slack's Retry-After before trying again: a worker asleep is a
# question in another channel waiting.
MAX_RETRY_WAIT_S = 20.0


class RateLimiter:
    """At most `per_minute` questions per user in any 60-second window; 0 means unlimited."""

    def __init__(self, per_minute: int, max_users: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.max_users = max_users
        self._clock = clock
        self._users: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, user: str) -> bool:
        """Count one question for the user; False if that would go over the limit."""
        if self.per_minute <= 0:
            return True
        now = self._clock()
        with self._lock:
            times = self._users.pop(user, None) or deque()
            while times and now - times[0] >= 60:
                times.popleft()
            allowed = len(times) < self.per_minute
            if allowed:
                times.append(now)
            self._users[user] = times  # most recently active last
            while len(self._users) > self.max_users:
                self._users.popitem(last=False)
            return allowed


def channel_allowed(channel: str, allowlist: list[str]) -> bool:
    """True when no allowlist is set, the channel is on it, or it is a direct message (Slack's
    DM ids start with D): the list names channels, and no admin can list every person's DM."""
    return not allowlist or channel in allowlist or channel.startswith("D")


class SlackRateLimitRetry(RateLimitErrorRetryHandler):
    """Slack's 429: wait what Retry-After says, then try again (slack_sdk's own handler fails on
    anything but whole seconds, so "1.5" or an HTTP date lost the answer)."""

    def prepare_for_next_attempt(self, *, state, request, response=None, error=None) -> None:
        """Sleep for retry_after_s of the response, then ask for one more attempt."""
        if response is None:
            raise error
        state.next_attempt_requested = True
        time.sleep(retry_after_s(response.headers) + random.random())
        state.increment_current_attempt()


def retry_after_s(headers: dict) -> float:
    """Seconds a Retry-After header asks for (seconds, a fraction, or an HTTP date); 1 when it
    is missing or unreadable; never more than MAX_RETRY_WAIT_S."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    value = (value[0] if value else None) if isinstance(value, list) else value
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_WAIT_S) if seconds == seconds else 1.0
