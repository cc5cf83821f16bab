"""The callback outbox: deliveries written with a task's end, claimed by one replica at a time,
announced over LISTEN/NOTIFY."""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import psycopg

from mock_server.scale.postgres.pool import (
    DELIVERY_COLUMNS,
    NOW_SQL,
    PostgresPool,
    StoreUnavailable,
    where_clause,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Collection

    from mock_server.store.protocol import Delivery


#: The channel a delivery written to the outbox is announced on (migration 4's trigger notifies it).
OUTBOX_CHANNEL = "a2v_outbox"


#: The `application_name` of the connection that listens on it (for pg_stat_activity).
OUTBOX_LISTENER = "a2v-outbox-listen"


class Deliveries(PostgresPool):
    """The callback outbox: deliveries written with a task's end, claimed by one replica at a time,
    announced over LISTEN/NOTIFY."""

    # --- callbacks (the outbox) ---
    async def save_delivery(self, record: Delivery) -> None:
        """Insert or update a delivery record (same keys as the SQLite store's)."""
        await self._run(
            f"INSERT INTO callbacks ({DELIVERY_COLUMNS}, next_at) VALUES"
            " (%(delivery_id)s, %(video_id)s, %(tenant)s, %(url)s, %(event)s, %(attempts)s, %(last_status)s,"
            " %(last_error)s, %(state)s, %(created_at)s, %(updated_at)s, %(next_at)s)"
            " ON CONFLICT (delivery_id) DO UPDATE SET attempts = EXCLUDED.attempts,"
            " last_status = EXCLUDED.last_status, last_error = EXCLUDED.last_error, state = EXCLUDED.state,"
            " updated_at = EXCLUDED.updated_at, next_at = EXCLUDED.next_at",
            {"next_at": record.get("next_at", record["updated_at"]), **record},
        )

    async def deliveries(
        self, tenant: str | None = None, video_id: str | None = None
    ) -> list[dict[str, Any]]:
        where, args = where_clause(tenant=tenant, video_id=video_id)
        return await self._all(f"SELECT {DELIVERY_COLUMNS} FROM callbacks {where} ORDER BY created_at", args)

    @contextlib.asynccontextmanager
    async def claim_delivery(self, skip: Collection[str] = ()) -> AsyncIterator[dict[str, Any] | None]:
        """Lock one due delivery for this process (None when none is due) until the block ends; none
        of the tenants in `skip` (those with as many deliveries under way as they may have).

        The caller posts the callback inside the block and updates the yielded record (`attempts`,
        `last_status`, `last_error`, `state`, `next_at`); the update is committed as the lock is released.
        Another replica skips the locked row; if this process dies, the lock goes with its connection
        and the delivery becomes due for another replica (same delivery id: at least once, and exactly
        once unless a process dies between the POST and the commit).
        """
        async with self._conn() as conn, conn.transaction():
            self.round_trips += 2
            cursor = await conn.execute(
                f"SELECT {DELIVERY_COLUMNS}, next_at FROM callbacks"
                f" WHERE state IN ('pending', 'retrying') AND next_at <= {NOW_SQL}"
                " AND NOT (tenant = ANY(%s)) ORDER BY next_at LIMIT 1 FOR UPDATE SKIP LOCKED",
                (list(skip),),
            )
            row = await cursor.fetchone()
            if row is None:
                yield None
                return
            record = dict(row)
            yield record
            self.round_trips += 2
            await conn.execute(
                "UPDATE callbacks SET attempts = %(attempts)s, last_status = %(last_status)s,"
                " last_error = %(last_error)s, state = %(state)s, updated_at = %(updated_at)s,"
                " next_at = %(next_at)s WHERE delivery_id = %(delivery_id)s",
                record,
            )

    async def next_delivery_in(self) -> float | None:
        """Seconds until the next delivery waiting for a later attempt is due (None: none waits).

        Rows already due are left out: one that `claim_delivery` skipped is locked by a loop posting it,
        which commits a new `next_at` (or an end) as it lets go."""
        row = await self._one(
            f"SELECT min(next_at) - {NOW_SQL} AS wait FROM callbacks"
            f" WHERE state IN ('pending', 'retrying') AND next_at > {NOW_SQL}"
        )
        return None if row is None or row["wait"] is None else max(0.0, float(row["wait"]))

    async def listen_outbox(self, on_listening: Callable[[int], None], on_notice: Callable[[], None]) -> None:
        """Listen on a connection of its own for deliveries written to the outbox, by any process.

        Calls `on_listening(backend_pid)` once `LISTEN` holds (look at the outbox then: what was written
        before it was not announced), then `on_notice()` for each delivery committed. Returns only by
        raising: `StoreUnavailable` when the connection cannot be made or drops (call again to
        reconnect), or the cancellation that stops it.
        """
        try:
            conn = await psycopg.AsyncConnection.connect(
                self.dsn,
                autocommit=True,
                connect_timeout=max(1, math.ceil(self.timeout)),
                application_name=OUTBOX_LISTENER,
            )
        except psycopg.Error as err:
            raise StoreUnavailable(f"the store at {self.path} is unavailable: {err}".strip()) from err
        async with conn:
            try:
                await conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                self.round_trips += 1
                on_listening(conn.info.backend_pid)
                async for _ in conn.notifies():
                    on_notice()
            except psycopg.Error as err:
                raise StoreUnavailable(f"listening at {self.path} stopped: {err}".strip()) from err
        raise StoreUnavailable(f"listening at {self.path} stopped: the connection closed")
