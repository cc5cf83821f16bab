"""Fixed-window rate limiting per token, reported on every response.

With no limit configured the window still exists (a large allowance, 60 s) so clients always see the
`X-Ratelimit-*` headers the spec requires.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.scenario_values import RateLimit

__all__ = ["UNLIMITED", "Limiter", "RateLimiter", "Window"]

#: The allowance reported when rate limiting is off.
UNLIMITED = 1_000_000
#: Windows kept at most; past it, ended windows are pruned, then the oldest dropped.
MAX_WINDOWS = 10_000


@dataclass
class Window:
    total: int
    left: int
    reset: int
    allowed: bool

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """`X-Ratelimit-Total`, `-Left` and `-Reset`, as ASGI header pairs."""
        return [
            (b"x-ratelimit-total", str(self.total).encode()),
            (b"x-ratelimit-left", str(self.left).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


class Limiter(Protocol):
    """What the request path needs of a rate limiter: this process's `RateLimiter`, or one whose
    windows every replica shares (`sharedlimit.SharedRateLimiter`)."""

    #: The allowance per window in effect (`UNLIMITED` with no limit set).
    requests: int

    def configure(self, limit: RateLimit | None) -> None: ...

    async def ahit(self, key: str, cost: int = 1) -> Window: ...

    async def areset(self, key: str | None = None) -> None: ...


class RateLimiter:
    """`requests` per `per_seconds` for each key; `configure(None)` turns limiting off."""

    def __init__(
        self,
        limit: RateLimit | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_windows: int = MAX_WINDOWS,
    ) -> None:
        self._clock = clock
        self.max_windows = max_windows
        self._windows: dict[str, tuple[float, int]] = {}
        self.configure(limit)

    def configure(self, limit: RateLimit | None) -> None:
        if limit is None:
            self.requests, self.per_seconds, self.enabled = UNLIMITED, 60.0, False
        else:
            self.requests, self.per_seconds, self.enabled = limit.requests, limit.per_seconds, True
        self._windows.clear()

    def reset(self, key: str | None = None) -> None:
        if key is None:
            self._windows.clear()
        else:
            self._windows.pop(key, None)

    async def ahit(self, key: str, cost: int = 1) -> Window:
        """`hit`, as the `Limiter` protocol has it (a shared limiter does I/O)."""
        return self.hit(key, cost)

    async def areset(self, key: str | None = None) -> None:
        self.reset(key)

    def hit(self, key: str, cost: int = 1) -> Window:
        """Count one request of `key` (cost 0 only reports) and say whether it is allowed."""
        now = self._clock()
        if key not in self._windows and len(self._windows) >= self.max_windows:
            self._prune(now)
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

    def __len__(self) -> int:
        return len(self._windows)

    def _prune(self, now: float) -> None:
        """Drop ended windows (they would restart anyway); if all are live, the oldest half."""
        live = {k: w for k, w in self._windows.items() if now - w[0] < self.per_seconds}
        if len(live) >= self.max_windows:
            ordered = sorted(live.items(), key=lambda item: item[1][0])
            live = dict(ordered[len(ordered) // 2 :])
        self._windows = live
