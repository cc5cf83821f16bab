"""The store on PostgreSQL, shared by every API replica and render worker.

Same methods and semantics as the embedded SQLite `Store` (a task only moves forward, every write is
committed before the caller answers), plus what replicas must agree on:

- `create_task()` claims an `Idempotency-Key` and inserts the task in one transaction, so two replicas
  given the same key at once answer the same `video_id` (the loser of the primary-key race reads the
  winner's row);
- `advance()` moves a task forward and, when it ends a task that has a `callback_url`, writes the
  delivery into the `callbacks` outbox in the same statement: a task ends once, whoever ends it;
- `claim_delivery()` locks one due delivery with `FOR UPDATE SKIP LOCKED`, so exactly one replica holds
  it while it posts; the row's new state is committed with the lock's release; `listen_outbox()` hears
  of each delivery written, from any process (LISTEN/NOTIFY: a trigger announces the committed row);
- `rate_hit()` counts a request in a fixed window with one atomic upsert (windows are shared);
- `count_unfinished(tenant)` gives the queue size overall or of one tenant (its share);
- `claim_render()` gives a worker's render message the fairest waiting task of the whole cluster
  (`pgfair`: round-robin over tenants, first come first served within one).
- `scenario_since(version)` tells a replica, in one round trip, whether the shared runtime scenario
  changed, and `update_scenario()` / `reset_scenario()` change it under its row lock.

Connections come from a `psycopg_pool.ConnectionPool` in autocommit mode; multi-statement work uses an
explicit transaction. A lost server connection raises `StoreUnavailable` (the API answers 503); the pool
drops the broken connection and the next request gets a fresh one, so the service recovers by itself.
`round_trips` counts statements sent (for the benchmark's per-task cost).

Example::

    store = PostgresStore("postgresql://postgres@127.0.0.1/a2v")   # migrates at start
    store.get_task("0123...")
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
import uuid
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg_pool
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mock_server.errors import ServiceUnavailable
from mock_server.store import pgfair
from mock_server.store.pgschema import migrate
from mock_server.store.protocol import Delivery, Task, task_from_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Collection

    from a2v_spec import ErrorCode, Status

__all__ = [
    "OUTBOX_CHANNEL",
    "OUTBOX_LISTENER",
    "PostgresStore",
    "RateHit",
    "ScenarioState",
    "StoreUnavailable",
]

T = TypeVar("T")

_COLUMNS = (
    "video_id, tenant, token, model_id, audio_url, callback_url, status, progress, error_code,"
    " error_message, duration, created_at, updated_at, plan"
)
_DELIVERY_COLUMNS = (
    "delivery_id, video_id, tenant, url, event, attempts, last_status, last_error, state, created_at,"
    " updated_at"
)
_RANK_SQL = "CASE status WHEN 'pending' THEN 0 WHEN 'in_progressing' THEN 1 ELSE 2 END"
_NOW_SQL = "extract(epoch FROM clock_timestamp())::float8"
#: The channel a delivery written to the outbox is announced on (migration 4's trigger notifies it).
OUTBOX_CHANNEL = "a2v_outbox"
#: The `application_name` of the connection that listens on it (for pg_stat_activity).
OUTBOX_LISTENER = "a2v-outbox-listen"


class StoreUnavailable(ServiceUnavailable):
    """The database could not be reached or dropped the connection; the request may be retried."""


class RateHit:
    """One counted request: whether it is allowed, requests used in the window, seconds to its end."""

    __slots__ = ("allowed", "reset", "used")

    def __init__(self, allowed: bool, used: int, reset: int) -> None:
        self.allowed, self.used, self.reset = allowed, used, reset


def redact(dsn: str) -> str:
    """`dsn` without its password, for logs and banners."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore:
    """Tasks, keys, tokens, deliveries and rate windows in the PostgreSQL database `dsn`.

    Nothing connects in the constructor (the composition root does no I/O): the pool opens, and the
    migrations run, on first use or `await open()`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        timeout: float = 5.0,
        migrate_schema: bool = True,
        retries: int = 0,
    ) -> None:
        self.dsn = dsn
        self.retries = retries
        self.path = redact(dsn)  # what logs name, as `Store.path` does
        self.round_trips = 0
        self.timeout = timeout
        self.migrate_schema = migrate_schema
        self._opened = False
        self._open_lock = asyncio.Lock()
        self.pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] = (
            psycopg_pool.AsyncConnectionPool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                timeout=timeout,
                kwargs={"autocommit": True, "row_factory": dict_row},
                open=False,
                name="a2v-store",
                reconnect_timeout=30.0,
            )
        )

    async def open(self) -> PostgresStore:
        """Connect (waiting up to `timeout`) and apply missing migrations; done once, on first use.

        The store counts as open only once migrated: a statement that comes meanwhile (a background
        loop starting beside the first request) waits for the lock instead of meeting missing tables."""
        async with self._open_lock:
            if self._opened:
                return self
            try:
                await self.pool.open(wait=True, timeout=self.timeout)
            except psycopg_pool.PoolTimeout as err:
                await self.pool.close()
                raise StoreUnavailable(f"PostgreSQL at {self.path} is not reachable: {err}") from err
            if self.migrate_schema:
                try:
                    async with self.pool.connection() as conn:
                        await migrate(conn)
                except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as err:
                    raise StoreUnavailable(f"the store at {self.path} is unavailable: {err}") from err
            self._opened = True
        return self

    async def aclose(self) -> None:
        await self.pool.close()

    @contextlib.asynccontextmanager
    async def _conn(self) -> AsyncIterator[psycopg.AsyncConnection[dict[str, Any]]]:
        if not self._opened:
            await self.open()
        try:
            async with self.pool.connection() as conn:
                yield conn
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as err:
            raise StoreUnavailable(f"the store at {self.path} is unavailable: {err}".strip()) from err

    async def _execute(
        self, sql: str, args: Any, fetch: Callable[[psycopg.AsyncCursor[dict[str, Any]]], Awaitable[T]]
    ) -> T:
        """One statement; with `retries`, a lost connection is retried on a fresh one (for workers,
        whose statements are all safe to repeat)."""

        async def statement(conn: psycopg.AsyncConnection[dict[str, Any]]) -> T:
            return await fetch(await conn.execute(sql, args))

        return await self._retrying(statement, 1)

    async def _retrying(
        self, work: Callable[[psycopg.AsyncConnection[dict[str, Any]]], Awaitable[T]], trips: int
    ) -> T:
        """`work` on a pooled connection (`trips` round trips); with `retries`, done again on a fresh
        one after a lost connection, so `work` must be safe to repeat."""
        for attempt in range(self.retries + 1):
            try:
                async with self._conn() as conn:
                    self.round_trips += trips
                    return await work(conn)
            except StoreUnavailable:
                if attempt == self.retries:
                    raise
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _one(self, sql: str, args: Any = None) -> dict[str, Any] | None:
        return await self._execute(sql, args, lambda cursor: cursor.fetchone())

    async def _all(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        return await self._execute(sql, args, lambda cursor: cursor.fetchall())

    async def _run(self, sql: str, args: Any = None) -> int:
        async def count(cursor: psycopg.AsyncCursor[dict[str, Any]]) -> int:
            return cursor.rowcount

        return await self._execute(sql, args, count)

    async def ping(self) -> None:
        """Raise StoreUnavailable unless the database answers (for `/readyz`)."""
        await self._one("SELECT 1 AS ok")

    # --- meta ---
    async def secret(self) -> str:
        """The signing secret all replicas share (made once by whoever asks first)."""
        await self._run(
            "INSERT INTO meta VALUES ('signing_secret', %s) ON CONFLICT (key) DO NOTHING",
            (secrets.token_hex(32),),
        )
        row = await self._one("SELECT value FROM meta WHERE key = 'signing_secret'")
        assert row is not None  # inserted just above; deleted by nothing
        return str(row["value"])

    # --- tasks ---
    async def insert_task(self, task: Task) -> None:
        await self._run(f"INSERT INTO tasks ({_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})", _task_args(task))

    async def create_task(
        self, task: Task, key: str | None = None, body_hash: str = "", ttl: float = 86400.0
    ) -> tuple[str, str] | None:
        """Insert `task`, claiming `key` for it in the same transaction.

        Returns None when the task was inserted, or `(body_hash, video_id)` of the live task that already
        holds `key` (the caller answers that id, or 1008 if the body differs). A key older than `ttl`
        seconds is taken over.
        """
        if key is None:
            await self.insert_task(task)
            return None
        async with self._conn() as conn, conn.transaction():
            self.round_trips += 3  # BEGIN, the claim, COMMIT
            cursor = await conn.execute(
                "INSERT INTO idempotency AS i VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant, key) DO UPDATE"
                " SET body_hash = EXCLUDED.body_hash, video_id = EXCLUDED.video_id,"
                " created_at = EXCLUDED.created_at WHERE i.created_at <= %s RETURNING video_id",
                (task.tenant, key, body_hash, task.video_id, time.time(), time.time() - ttl),
            )
            claimed = await cursor.fetchone()
            if claimed is None:  # held by a live task, committed (ON CONFLICT waited for its transaction)
                self.round_trips += 1
                cursor = await conn.execute(
                    "SELECT body_hash, video_id FROM idempotency WHERE tenant = %s AND key = %s",
                    (task.tenant, key),
                )
                row = await cursor.fetchone()
                assert row is not None  # the conflict proves it exists and nothing deletes it meanwhile
                return str(row["body_hash"]), str(row["video_id"])
            self.round_trips += 1
            await conn.execute(
                f"INSERT INTO tasks ({_COLUMNS}) VALUES ({', '.join(['%s'] * 14)})", _task_args(task)
            )
        return None

    async def get_task(self, video_id: str, tenant: str | None = None) -> Task | None:
        if tenant is None:
            row = await self._one(f"SELECT {_COLUMNS} FROM tasks WHERE video_id = %s", (video_id,))
        else:
            row = await self._one(
                f"SELECT {_COLUMNS} FROM tasks WHERE video_id = %s AND tenant = %s", (video_id, tenant)
            )
        return _task(row) if row else None

    async def list_tasks(
        self, tenant: str | None, status: Status | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[Task], int]:
        where, args = _where(tenant=tenant, status=None if status is None else str(status))
        rows = await self._all(
            f"SELECT {_COLUMNS}, count(*) OVER () AS total FROM tasks {where}"
            " ORDER BY created_at DESC, video_id DESC LIMIT %s OFFSET %s",
            [*args, limit, offset],
        )
        if rows:
            return [_task(r) for r in rows], int(rows[0]["total"])
        if offset == 0:
            return [], 0
        row = await self._one(f"SELECT count(*) AS n FROM tasks {where}", args)  # a page past the end
        return [], int(row["n"]) if row else 0

    async def unfinished(self) -> list[Task]:
        rows = await self._all(
            f"SELECT {_COLUMNS} FROM tasks WHERE status IN ('pending', 'in_progressing')"
            " ORDER BY created_at, video_id"
        )
        return [_task(r) for r in rows]

    async def count_unfinished(self, tenant: str | None = None) -> int:
        """Tasks waiting or running, overall or of one tenant (its queue share)."""
        where = "WHERE status IN ('pending', 'in_progressing')" + (" AND tenant = %s" if tenant else "")
        row = await self._one(f"SELECT count(*) AS n FROM tasks {where}", (tenant,) if tenant else None)
        return int(row["n"]) if row else 0

    async def claim_render(self, message: str, worker: str) -> str | None:
        """The task the render message `message` runs on `worker` (None: no task waits), chosen fairly
        between tenants for the whole cluster (`pgfair`); the attempt is counted and the worker named.
        Safe to repeat after a lost connection: a message that holds a task gets that task again."""
        # Four round trips: BEGIN, the lock, the claim, COMMIT.
        return await self._retrying(lambda conn: pgfair.claim(conn, message, worker), 4)

    async def attempt_of(self, video_id: str) -> tuple[int, str | None]:
        """(attempts, last worker) of a task, for tests and the admin view."""
        row = await self._one("SELECT attempts, worker FROM tasks WHERE video_id = %s", (video_id,))
        return (int(row["attempts"]), row["worker"]) if row else (0, None)

    async def mark_dispatched(self, video_id: str) -> None:
        """Record that the task's render message is on the broker (confirmed)."""
        await self._run(f"UPDATE tasks SET dispatched_at = {_NOW_SQL} WHERE video_id = %s", (video_id,))

    async def claim_undispatched(self, older_than: float, limit: int = 100) -> list[str]:
        """Tasks created over `older_than` seconds ago whose message was never confirmed (a replica died
        between commit and publish, or the broker was down): marked dispatched for this replica to
        publish (`release_dispatch()` if it cannot).

        A message is owed while the task is unfinished, and also once another task's message ran it
        (`pgfair`): that message then did this task's turn, and the other task still needs one."""
        rows = await self._all(
            f"UPDATE tasks SET dispatched_at = {_NOW_SQL} WHERE video_id IN ("
            " SELECT video_id FROM tasks WHERE dispatched_at IS NULL"
            " AND (status IN ('pending', 'in_progressing') OR claimed_by <> video_id)"
            f" AND created_at < {_NOW_SQL} - %s ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING video_id",
            (older_than, limit),
        )
        return [str(r["video_id"]) for r in rows]

    async def release_dispatch(self, video_id: str) -> None:
        await self._run("UPDATE tasks SET dispatched_at = NULL WHERE video_id = %s", (video_id,))

    async def overdue(self, deadline_seconds: float, limit: int = 100) -> list[str]:
        """Unfinished tasks older than the deadline (ended with 10007 by whoever sweeps first)."""
        rows = await self._all(
            "SELECT video_id FROM tasks WHERE status IN ('pending', 'in_progressing')"
            f" AND created_at + %s < {_NOW_SQL} ORDER BY created_at LIMIT %s",
            (deadline_seconds, limit),
        )
        return [str(r["video_id"]) for r in rows]

    async def count_by_status(self) -> dict[str, int]:
        """Tasks per status (for the metrics)."""
        rows = await self._all("SELECT status, count(*) AS n FROM tasks GROUP BY status")
        return {str(r["status"]): int(r["n"]) for r in rows}

    async def advance(
        self,
        video_id: str,
        status: Status,
        *,
        progress: int | None = None,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        """Move a task forward (never back, never out of a terminal status); None if it could not move.

        One statement: the row lock makes two workers ending the same task move it once; ending a task
        with a `callback_url` also writes its delivery to the outbox.
        """
        code, message = error if error else (None, None)
        now = time.time()
        row = await self._one(
            f"""
            WITH moved AS (
                UPDATE tasks SET status = %(status)s,
                    progress = CASE WHEN %(status)s = 'finished' THEN 100
                                    ELSE GREATEST(progress, COALESCE(%(progress)s, progress)) END,
                    error_code = %(code)s, error_message = %(message)s,
                    duration = COALESCE(%(duration)s, duration), updated_at = %(now_s)s
                WHERE video_id = %(video_id)s AND status NOT IN ('finished', 'error')
                    AND {_RANK_SQL} <= %(rank)s
                RETURNING {_COLUMNS}
            ), outbox AS (
                INSERT INTO callbacks ({_DELIVERY_COLUMNS}, next_at)
                SELECT %(delivery_id)s, video_id, tenant, callback_url, 'video.' || status, 0, NULL, NULL,
                    'pending', %(now)s, %(now)s, %(now)s
                FROM moved WHERE callback_url IS NOT NULL AND status IN ('finished', 'error')
                ON CONFLICT DO NOTHING
            )
            SELECT * FROM moved
            """,
            {
                "status": str(status),
                "progress": progress,
                "code": None if code is None else int(code),
                "message": message,
                "duration": duration,
                "now_s": int(now),
                "now": now,
                "video_id": video_id,
                "rank": status.rank,
                "delivery_id": uuid.uuid4().hex,
            },
        )
        return _task(row) if row else None

    async def set_progress(self, video_id: str, progress: int) -> None:
        await self._run(
            "UPDATE tasks SET progress = %s, updated_at = %s"
            " WHERE video_id = %s AND status = 'in_progressing' AND progress < %s",
            (progress, int(time.time()), video_id, progress),
        )

    async def delete_tenant(self, tenant: str | None) -> list[str]:
        """Delete one tenant's rows (all when None); returns the deleted video ids."""
        async with self._conn() as conn, conn.transaction():
            self.round_trips += 7
            if tenant is None:
                cursor = await conn.execute("DELETE FROM tasks RETURNING video_id")
                ids = [str(r["video_id"]) for r in await cursor.fetchall()]
                for table in ("idempotency", "tokens", "callbacks", "tenant_turns"):
                    await conn.execute(f"DELETE FROM {table}")
                return ids
            cursor = await conn.execute("DELETE FROM tasks WHERE tenant = %s RETURNING video_id", (tenant,))
            ids = [str(r["video_id"]) for r in await cursor.fetchall()]
            for table in ("idempotency", "tokens", "callbacks", "tenant_turns"):
                await conn.execute(f"DELETE FROM {table} WHERE tenant = %s", (tenant,))
            return ids

    # --- idempotency ---
    async def idempotent(self, tenant: str, key: str, ttl: float) -> tuple[str, str] | None:
        row = await self._one(
            "SELECT body_hash, video_id FROM idempotency WHERE tenant = %s AND key = %s AND created_at > %s",
            (tenant, key, time.time() - ttl),
        )
        return (str(row["body_hash"]), str(row["video_id"])) if row else None

    async def remember_key(self, tenant: str, key: str, body_hash: str, video_id: str) -> None:
        await self._run(
            "INSERT INTO idempotency VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tenant, key) DO UPDATE"
            " SET body_hash = EXCLUDED.body_hash, video_id = EXCLUDED.video_id,"
            " created_at = EXCLUDED.created_at",
            (tenant, key, body_hash, video_id, time.time()),
        )

    # --- login tokens ---
    async def add_token(self, token: str, tenant: str, expired_at: int) -> None:
        await self._run(
            "INSERT INTO tokens VALUES (%s, %s, %s) ON CONFLICT (token) DO UPDATE"
            " SET tenant = EXCLUDED.tenant, expired_at = EXCLUDED.expired_at",
            (token, tenant, expired_at),
        )

    async def token(self, token: str) -> tuple[str, int] | None:
        row = await self._one("SELECT tenant, expired_at FROM tokens WHERE token = %s", (token,))
        return (str(row["tenant"]), int(row["expired_at"])) if row else None

    # --- callbacks (the outbox) ---
    async def save_delivery(self, record: Delivery) -> None:
        """Insert or update a delivery record (same keys as the SQLite store's)."""
        await self._run(
            f"INSERT INTO callbacks ({_DELIVERY_COLUMNS}, next_at) VALUES"
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
        where, args = _where(tenant=tenant, video_id=video_id)
        return await self._all(f"SELECT {_DELIVERY_COLUMNS} FROM callbacks {where} ORDER BY created_at", args)

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
                f"SELECT {_DELIVERY_COLUMNS}, next_at FROM callbacks"
                f" WHERE state IN ('pending', 'retrying') AND next_at <= {_NOW_SQL}"
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
            f"SELECT min(next_at) - {_NOW_SQL} AS wait FROM callbacks"
            f" WHERE state IN ('pending', 'retrying') AND next_at > {_NOW_SQL}"
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

    # --- rate limit windows ---
    async def rate_hit(self, key: str, requests: int, per_seconds: float, cost: int = 1) -> RateHit:
        """Count `cost` requests of `key` in its fixed window of `per_seconds`, atomically for every
        replica (one upsert; the database clock decides windows)."""
        row = await self._one(
            f"""
            INSERT INTO ratelimit AS r (key, started, used, ok)
            SELECT %(key)s, now_s, CASE WHEN %(cost)s <= %(limit)s THEN %(cost)s ELSE 0 END,
                %(cost)s <= %(limit)s FROM (SELECT {_NOW_SQL} AS now_s) AS t
            ON CONFLICT (key) DO UPDATE SET
                started = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.started
                               ELSE r.started END,
                used = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.used
                            WHEN r.used + %(cost)s <= %(limit)s THEN r.used + %(cost)s ELSE r.used END,
                ok = CASE WHEN r.started + %(per)s <= EXCLUDED.started THEN EXCLUDED.ok
                          ELSE r.used + %(cost)s <= %(limit)s END
            RETURNING started, used, ok, {_NOW_SQL} AS now_s
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

    # --- the shared runtime scenario (mock_server.sharedscenario) ---
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
                f"INSERT INTO scenario_resets VALUES (%s, %s, {_NOW_SQL})", (row["version"], tenant)
            )
            await conn.execute(
                "DELETE FROM scenario_resets WHERE version <= %s", (int(row["version"]) - keep,)
            )


class ScenarioState:
    """The shared scenario as one replica reads it: its version, the version of its last reseed, its
    body (None: the settings' scenario) and the resets `(version, tenant)` since the reader's version."""

    __slots__ = ("body", "resets", "seeded", "version")

    def __init__(self, version: int, seeded: int, body: Any, resets: list[tuple[int, str | None]]) -> None:
        self.version, self.seeded, self.body, self.resets = version, seeded, body, resets


def _where(**filters: str | None) -> tuple[str, list[Any]]:
    names = [name for name, value in filters.items() if value is not None]
    clause = f"WHERE {' AND '.join(f'{n} = %s' for n in names)}" if names else ""
    return clause, [filters[n] for n in names]


def _task_args(task: Task) -> tuple[Any, ...]:
    code = None if task.error_code is None else int(task.error_code)
    return (
        task.video_id, task.tenant, task.token, task.model_id, task.audio_url, task.callback_url,
        str(task.status), task.progress, code, task.error_message, task.duration,
        task.created_at, task.updated_at, Jsonb(task.plan.to_dict()),
    )  # fmt: skip


def _task(row: dict[str, Any]) -> Task:
    return task_from_row(row, row["plan"])
