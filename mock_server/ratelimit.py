"""Fixed-window rate limiting per token, reported on every response.

With no limit configured the window still exists (a large allowance, 60 s) so clients always see the
`X-Ratelimit-*` headers the spec requires.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

__all__ = ["UNLIMITED", "RateLimiter", "Window"]

#: The allowance reported when rate limiting is off.
UNLIMITED = 1_000_000


@dataclass
class Window:
    total: int
    left: int
    reset: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-Ratelimit-Total": str(self.total),
            "X-Ratelimit-Left": str(self.left),
            "X-Ratelimit-Reset": str(self.reset),
        }


class RateLimiter:
    """`requests` per `per_seconds` for each key; `configure(None)` turns limiting off."""

    def __init__(self, limit: dict[str, float] | None = None, clock: object = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self.configure(limit)

    def configure(self, limit: dict[str, float] | None) -> None:
        if limit is None:
            self.requests, self.per_seconds, self.enabled = UNLIMITED, 60.0, False
        else:
            requests, per = int(limit["requests"]), float(limit.get("per_seconds", 60))
            if requests < 0 or per <= 0:
                raise ValueError(f"rate_limit needs requests >= 0 and per_seconds > 0, got {limit!r}")
            self.requests, self.per_seconds, self.enabled = requests, per, True
        self._windows.clear()

    def reset(self, key: str | None = None) -> None:
        if key is None:
            self._windows.clear()
        else:
            self._windows.pop(key, None)

    def hit(self, key: str, cost: int = 1) -> Window:
        """Count one request of `key` (cost 0 only reports) and say whether it is allowed."""
        now = self._clock()  # type: ignore[operator]
        start, used = self._windows.get(key, (now, 0))
        if now - start >= self.per_seconds:
            start, used = now, 0
        reset = max(0, math.ceil(start + self.per_seconds - now))
        if cost and used + cost > self.requests:
            self._windows[key] = (start, used)
            return Window(self.requests, 0, max(reset, 1), allowed=False)
        used += cost
        self._windows[key] = (start, used)
        return Window(self.requests, max(0, self.requests - used), reset, allowed=True)
