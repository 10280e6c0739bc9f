"""Access and abuse controls: the channel allowlist and a per-user rate limit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


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
    """True when no allowlist is set or the channel is on it."""
    return not allowlist or channel in allowlist
