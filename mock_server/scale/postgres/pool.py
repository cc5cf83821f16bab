"""One PostgreSQL connection pool and the statement helpers the store's jobs share."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg_pool
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from mock_server.errors import ServiceUnavailable
from mock_server.scale.postgres.schema import migrate
from mock_server.store.protocol import Task, task_from_row

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable


T = TypeVar("T")


COLUMNS = (
    "video_id, tenant, token, model_id, audio_url, callback_url, status, progress, error_code,"
    " error_message, duration, created_at, updated_at, plan"
)


DELIVERY_COLUMNS = (
    "delivery_id, video_id, tenant, url, event, attempts, last_status, last_error, state, created_at,"
    " updated_at"
)


RANK_SQL = "CASE status WHEN 'pending' THEN 0 WHEN 'in_progressing' THEN 1 ELSE 2 END"


NOW_SQL = "extract(epoch FROM clock_timestamp())::float8"


class StoreUnavailable(ServiceUnavailable):
    """The database could not be reached or dropped the connection; the request may be retried."""


def redact(dsn: str) -> str:
    """`dsn` without its password, for logs and banners."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def where_clause(**filters: str | None) -> tuple[str, list[Any]]:
    names = [name for name, value in filters.items() if value is not None]
    clause = f"WHERE {' AND '.join(f'{n} = %s' for n in names)}" if names else ""
    return clause, [filters[n] for n in names]


def task_args(task: Task) -> tuple[Any, ...]:
    code = None if task.error_code is None else int(task.error_code)
    return (
        task.video_id, task.tenant, task.token, task.model_id, task.audio_url, task.callback_url,
        str(task.status), task.progress, code, task.error_message, task.duration,
        task.created_at, task.updated_at, Jsonb(task.plan.to_dict()),
    )  # fmt: skip


def task_of_row(row: dict[str, Any]) -> Task:
    return task_from_row(row, row["plan"])


class PostgresPool:
    """The connection pool and the statement helpers every job of the store shares (one pool per
    process; a lost connection raises `StoreUnavailable`, retried where a statement is idempotent)."""

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

    async def open(self) -> Self:
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
