"""Rate limiting shared by every replica: the `RateLimiter` interface over the store's atomic windows.

Each counted request is one upsert in PostgreSQL (`PostgresStore.rate_hit`), so N replicas behind a load
balancer enforce one limit per key, exactly: the row lock orders concurrent requests, and the database
clock starts and ends windows. `configure()` sets this replica's limit; every replica calls it with the
shared scenario's (`sharedscenario`), and it leaves the shared windows alone, since a replica starting
must not reset them.

With no limit set, requests are still counted, against the `UNLIMITED` allowance, as the embedded
`RateLimiter` counts them: `X-Ratelimit-Left` is "requests left in the current window" and must drop by
one per request whichever replica answers (answering `Left == Total` on every request is the very fault
A2V-RATELIMIT-ARITHMETIC catches). Those windows are kept under their own keys (`unlimited_key`), so a
limit set later starts from a fresh window rather than from the requests counted while there was none,
as `RateLimiter.configure()` starts afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.ratelimit import UNLIMITED, Window

if TYPE_CHECKING:
    from mock_server.scale.postgres.store import PostgresStore
    from mock_server.scenario_values import RateLimit

__all__ = ["SharedRateLimiter", "unlimited_key"]


def unlimited_key(key: str) -> str:
    """The window `key` counts under while no limit is set."""
    return f"unlimited:{key}"


class SharedRateLimiter:
    def __init__(self, store: PostgresStore, limit: RateLimit | None = None) -> None:
        self.store = store
        self.configure(limit)

    def configure(self, limit: RateLimit | None) -> None:
        if limit is None:
            self.requests, self.per_seconds, self.enabled = UNLIMITED, 60.0, False
        else:
            self.requests, self.per_seconds, self.enabled = limit.requests, limit.per_seconds, True

    async def areset(self, key: str | None = None) -> None:
        if key is None:
            await self.store.reset_rate()
        else:
            await self.store.reset_rate(key, unlimited_key(key))

    async def ahit(self, key: str, cost: int = 1) -> Window:
        """Count `cost` requests of `key` across replicas (one upsert, limit or not)."""
        counted = key if self.enabled else unlimited_key(key)
        found = await self.store.rate_hit(counted, self.requests, self.per_seconds, cost)
        if not found.allowed:
            return Window(self.requests, 0, max(found.reset, 1), allowed=False)
        return Window(self.requests, max(0, self.requests - found.used), found.reset, allowed=True)
