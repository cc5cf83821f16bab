"""The shared runtime scenario: one versioned row, its resets, read once per request by each replica."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from mock_server.scale.postgres.pool import NOW_SQL, PostgresPool, StoreUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable


class ScenarioState:
    """The shared scenario as one replica reads it: its version, the version of its last reseed, its
    body (None: the settings' scenario) and the resets `(version, tenant)` since the reader's version."""

    __slots__ = ("body", "resets", "seeded", "version")

    def __init__(self, version: int, seeded: int, body: Any, resets: list[tuple[int, str | None]]) -> None:
        self.version, self.seeded, self.body, self.resets = version, seeded, body, resets


class ScenarioRow(PostgresPool):
    """The shared runtime scenario: one versioned row, its resets, read once per request by each replica."""

    # --- the shared runtime scenario (mock_server.scale.shared_scenario) ---
    async def scenario_since(self, version: int) -> ScenarioState | None:
        """The shared scenario, or None when its version is still `version`: one round trip either way
        (the body and the resets since `version` are only read when the version moved)."""
        row = await self._one(
            """
            SELECT version, seeded,
                CASE WHEN version <> %(v)s THEN body END AS body,
                CASE WHEN version <> %(v)s THEN (
                    SELECT coalesce(jsonb_agg(jsonb_build_array(r.version, r.tenant) ORDER BY r.version),
                                    '[]'::jsonb)
                    FROM scenario_resets r WHERE r.version > %(v)s
                ) END AS resets
            FROM scenario
            """,
            {"v": version},
        )
        if row is None:  # the migration made the row; nothing deletes it
            raise StoreUnavailable(f"the store at {self.path} has no scenario row")
        if int(row["version"]) == version:
            return None
        resets = [(int(v), t) for v, t in row["resets"] or []]
        return ScenarioState(int(row["version"]), int(row["seeded"]), row["body"], resets)

    async def update_scenario(self, change: Callable[[Any], tuple[Any, bool] | None]) -> bool:
        """Change the shared scenario's body under its row lock: `change(body)` returns None (no change)
        or `(new body, reseed)`; an exception from it rolls back. Returns whether it changed."""
        async with self._conn() as conn, conn.transaction():
            self.round_trips += 3  # BEGIN, the locked read, COMMIT
            cursor = await conn.execute("SELECT body FROM scenario FOR UPDATE")
            row = await cursor.fetchone()
            changed = change(None if row is None else row["body"])
            if changed is None:
                return False
            body, reseed = changed
            self.round_trips += 1
            await conn.execute(
                "UPDATE scenario SET body = %s, version = version + 1,"
                " seeded = CASE WHEN %s THEN version + 1 ELSE seeded END",
                (None if body is None else Jsonb(body), reseed),
            )
        return True

    async def reset_scenario(self, tenant: str | None, keep: int = 1000) -> None:
        """Record a reset for every replica to replay (`tenant` None: everything, which also returns the
        scenario to the settings' and reseeds). The newest `keep` resets are kept."""
        async with self._conn() as conn, conn.transaction():
            self.round_trips += 5
            cursor = await conn.execute(
                "UPDATE scenario SET version = version + 1,"
                " body = CASE WHEN %(all)s THEN NULL ELSE body END,"
                " seeded = CASE WHEN %(all)s THEN version + 1 ELSE seeded END RETURNING version",
                {"all": tenant is None},
            )
            row = await cursor.fetchone()
            assert row is not None  # the migration made the row; nothing deletes it
            await conn.execute(
                f"INSERT INTO scenario_resets VALUES (%s, %s, {NOW_SQL})", (row["version"], tenant)
            )
            await conn.execute(
                "DELETE FROM scenario_resets WHERE version <= %s", (int(row["version"]) - keep,)
            )
