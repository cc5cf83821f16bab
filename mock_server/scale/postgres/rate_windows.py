"""Fixed rate-limit windows shared by every replica: one atomic upsert per counted request."""

from __future__ import annotations

import math

from mock_server.scale.postgres.pool import NOW_SQL, PostgresPool


class RateHit:
    """One counted request: whether it is allowed, requests used in the window, seconds to its end."""

    __slots__ = ("allowed", "reset", "used")

    def __init__(self, allowed: bool, used: int, reset: int) -> None:
        self.allowed, self.used, self.reset = allowed, used, reset


class RateWindows(PostgresPool):
    """Fixed rate-limit windows shared by every replica: one atomic upsert per counted request."""

    # --- rate limit windows ---
    async def rate_hit(self, key: str, requests: int, per_seconds: float, cost: int = 1) -> RateHit:
        """Count `cost` requests of `key` in its fixed window of `per_seconds`, atomically for every
        replica (one upsert; the database clock decides windows)."""
        row = await self._one(
            f"""
            INSERT INTO ratelimit AS r (key, started, used, ok)
            SELECT %(key)s, now_s, CASE WHEN %(cost)s <= %(limit)s THEN %(cost)s ELSE 0 END,
                %(cost)s <= %(limit)s FROM (SELECT {NOW_SQL} AS now_s) AS t
            ON CONFLICT (key) DO UPDATE SET
                started = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.started
                               ELSE r.started END,
                used = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.used
                            WHEN r.used + %(cost)s <= %(limit)s THEN r.used + %(cost)s ELSE r.used END,
                ok = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.ok
                          ELSE r.used + %(cost)s <= %(limit)s END
            RETURNING started, used, ok, {NOW_SQL} AS now_s
            """,
            {"key": key, "cost": cost, "limit": requests, "per": per_seconds},
        )
        assert row is not None  # an upsert always returns its row
        reset = max(0, math.ceil(float(row["started"]) + per_seconds - float(row["now_s"])))
        return RateHit(bool(row["ok"]), int(row["used"]), reset)

    async def reset_rate(self, *keys: str) -> None:
        """End the windows of `keys` (every window when none is given)."""
        if not keys:
            await self._run("DELETE FROM ratelimit")
        else:
            await self._run("DELETE FROM ratelimit WHERE key = ANY(%s)", (list(keys),))
