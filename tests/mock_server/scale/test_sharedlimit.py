"""The rate limiter every replica shares: windows counted in PostgreSQL, with a limit set or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mock_server.ratelimit import UNLIMITED
from mock_server.scale.postgres.store import PostgresStore
from mock_server.scale.shared_limits import SharedRateLimiter
from mock_server.scenario_values import RateLimit

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

pytestmark = pytest.mark.anyio


@pytest.fixture
async def replicas(pg_dsn: str) -> AsyncIterator[list[PostgresStore]]:
    """Two stores on one database, as two `a2v-mock serve` replicas have."""
    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    yield stores
    for store in stores:
        await store.aclose()


async def test_with_no_limit_left_counts_down_whichever_replica_answers(
    replicas: list[PostgresStore],
) -> None:
    # The kit's A2V-RATELIMIT-ARITHMETIC through a round-robin balancer: before, each replica answered
    # Left == Total (1,000,000) without counting, which is the kit's faulty server `left_never_counts`.
    limiters = [SharedRateLimiter(store, None) for store in replicas]
    windows = [await limiters[i % 2].ahit("tenant") for i in range(4)]
    assert [w.total for w in windows] == [UNLIMITED] * 4
    assert [w.left for w in windows] == [UNLIMITED - n for n in (1, 2, 3, 4)]
    assert all(w.allowed and 0 < w.reset <= 60 for w in windows)
    reported = await limiters[0].ahit("tenant", cost=0)  # ping: reported, not counted
    assert reported.left == UNLIMITED - 4


async def test_a_limit_set_later_starts_a_fresh_window(replicas: list[PostgresStore]) -> None:
    limiter = SharedRateLimiter(replicas[0], None)
    for _ in range(5):
        await limiter.ahit("tenant")
    limiter.configure(RateLimit(3, 60.0))
    assert [(await limiter.ahit("tenant")).left for _ in range(3)] == [2, 1, 0]
    assert not (await limiter.ahit("tenant")).allowed
    limiter.configure(None)  # the count kept while unlimited goes on
    assert (await limiter.ahit("tenant")).left == UNLIMITED - 6


async def test_reset_ends_the_windows_counted_with_and_without_a_limit(replicas: list[PostgresStore]) -> None:
    limited = SharedRateLimiter(replicas[0], RateLimit(3, 60.0))
    unlimited = SharedRateLimiter(replicas[1], None)
    for _ in range(3):
        await limited.ahit("tenant")
        await unlimited.ahit("tenant")
        await unlimited.ahit("other")
    await limited.areset("tenant")
    assert (await limited.ahit("tenant")).left == 2
    assert (await unlimited.ahit("tenant")).left == UNLIMITED - 1
    assert (await unlimited.ahit("other")).left == UNLIMITED - 4  # another tenant's window stays
    await unlimited.areset()
    assert (await unlimited.ahit("other")).left == UNLIMITED - 1
