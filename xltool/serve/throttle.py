"""Throttling of failed guesses, so that one office's mistakes do not lock out its neighbours.

Units of one government often reach the portal from one public address (one building, one NAT).
So a throttle never refuses what is right: a valid unit link, the right admin password and the
right API token always work. What it slows down is guessing: once an address (or a browser) has
made ``limit`` failed guesses within ``window`` seconds, each further wrong answer is a 429, and the
admin password, whose check is deliberately costly (argon2), is checked for it at most once every
``every`` seconds; attempts in between get 429 unchecked.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

MAX_TRACKED = 10_000  # keys remembered before the expired ones are forgotten


@dataclass
class Limiter:
    limit: int
    window: float
    every: float
    seen: dict[str, deque[float]] = field(default_factory=dict)
    tried: dict[str, float] = field(default_factory=dict)

    def throttled(self, key: str) -> bool:
        """Whether ``key`` has made ``limit`` failed guesses within the window."""
        times = self.seen.get(key)
        if not times:
            return False
        while times and times[0] < _now() - self.window:
            times.popleft()
        return len(times) >= self.limit

    def fail(self, key: str) -> None:
        if len(self.seen) > MAX_TRACKED:
            self._forget()
        self.seen.setdefault(key, deque()).append(_now())

    def may_try(self, key: str) -> bool:
        """Whether a costly check may run for ``key`` now (always, unless throttled: then once per ``every`` s)."""
        if not self.throttled(key):
            return True
        now = _now()
        if now - self.tried.get(key, -self.every) < self.every:
            return False
        self.tried[key] = now
        return True

    def _forget(self) -> None:
        old = _now() - self.window
        for key in [k for k, times in self.seen.items() if not times or times[-1] < old]:
            del self.seen[key]
            self.tried.pop(key, None)


def _now() -> float:
    return time.monotonic()
