"""Rate limiting shared by every replica: the `RateLimiter` interface over the store's atomic windows.

Each counted request is one upsert in PostgreSQL (`PostgresStore.rate_hit`), so N replicas behind a load
balancer enforce one limit per key, exactly: the row lock orders concurrent requests, and the database
clock starts and ends windows. `configure()` sets this replica's limit; every replica calls it with the
shared scenario's (`sharedscenario`), and it leaves the shared windows alone, since a replica starting
must not reset them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_server.ratelimit import UNLIMITED, Window

if TYPE_CHECKING:
    from mock_server.store.postgres import PostgresStore
    from mock_server.values import RateLimit

__all__ = ["SharedRateLimiter"]


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
        await self.store.reset_rate(key)

    async def ahit(self, key: str, cost: int = 1) -> Window:
        """Count one request of `key` across replicas. Unlimited: only the headers, no round trip."""
        if not self.enabled:
            return Window(self.requests, self.requests, int(self.per_seconds), allowed=True)
        found = await self.store.rate_hit(key, self.requests, self.per_seconds, cost)
        if not found.allowed:
            return Window(self.requests, 0, max(found.reset, 1), allowed=False)
        return Window(self.requests, max(0, self.requests - found.used), found.reset, allowed=True)
