"""The embedded `Store`: one SQLite file, `<data_dir>/mock.sqlite3`.

WAL mode, and every write commits before the caller answers, so nothing accepted is lost by a crash.
The store is used from the event loop thread only; statements are small and indexed (microseconds), so
the coroutines run them inline instead of paying for a thread hop.

A file that is not a usable database (corrupt, unreadable, a directory) is found when the store is
opened (`PRAGMA quick_check` included) and raised as `DatabaseUnusable`, one line the CLI prints before
exiting 2; while the server runs, `ping` (what `/readyz` checks) fails once the file on disk is gone,
replaced, unreadable or no longer a database, so a balancer stops sending before requests fail.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import secrets
import sqlite3
import time
from typing import TYPE_CHECKING, Any, TypeVar

from a2v_spec import TERMINAL, UNFINISHED, ErrorCode, Status
from mock_server.errors import StorageUnavailable
from mock_server.files.permissions import private_dir, private_file
from mock_server.store.protocol import Delivery, Task, task_from_row

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

__all__ = ["DatabaseUnusable", "SqliteStore"]

log = logging.getLogger("mock_server")
_T = TypeVar("_T")

_UNFINISHED_IN = f"({','.join(repr(str(s)) for s in sorted(UNFINISHED))})"
_TERMINAL_IN = f"({','.join(repr(str(s)) for s in sorted(TERMINAL))})"
_UNFINISHED_COUNT = f"SELECT COUNT(*) FROM tasks WHERE status IN {_UNFINISHED_IN}"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    video_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, token TEXT NOT NULL, model_id TEXT NOT NULL,
    audio_url TEXT NOT NULL, callback_url TEXT, status TEXT NOT NULL, progress INTEGER NOT NULL,
    error_code INTEGER, error_message TEXT, duration REAL, created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL, plan TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS tasks_tenant ON tasks (tenant, created_at DESC, video_id DESC);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE TABLE IF NOT EXISTS idempotency (
    tenant TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL, video_id TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (tenant, key)
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, tenant TEXT NOT NULL, expired_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks (
    delivery_id TEXT PRIMARY KEY, video_id TEXT NOT NULL, tenant TEXT NOT NULL, url TEXT NOT NULL,
    event TEXT NOT NULL, attempts INTEGER NOT NULL, last_status INTEGER, last_error TEXT,
    state TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


#: The first bytes of every SQLite 3 database file.
_HEADER = b"SQLite format 3\x00"


class DatabaseUnusable(RuntimeError):
    """`mock.sqlite3` cannot be used (corrupt, unreadable, not a file): one line naming it and the fix."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"database {str(path)!r} is not usable ({reason}); move it away (a new one is made) "
            "or choose another --data-dir"
        )


def _reason(err: BaseException) -> str:
    """An error as one short phrase: SQLite's own words, or the OS's without its errno."""
    if isinstance(err, OSError) and err.strerror:
        return err.strerror.lower()
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _storage_errors(cls: type[_T]) -> type[_T]:
    """Every coroutine method of `cls` raises `StorageUnavailable` for a database or disk error (a full
    disk is SQLITE_FULL, an OperationalError), so the request answers 503/1014 and a task waits."""

    def wrap(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(method)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except (sqlite3.OperationalError, sqlite3.DatabaseError, OSError) as err:
                log.error("store: %s failed: %s", method.__name__, err)
                raise StorageUnavailable("the task store") from err

        return guarded

    for name, member in list(vars(cls).items()):
        if inspect.iscoroutinefunction(member) and not name.startswith("_") and name != "aclose":
            setattr(cls, name, wrap(member))
    return cls


@_storage_errors
class SqliteStore:
    """The database file `<data_dir>/mock.sqlite3`."""

    def __init__(self, data_dir: Path, tenant_of: Callable[[str], str] | None = None) -> None:
        """`tenant_of` derives a tenant id from a token (`auth.tenant_id`): given, the tenants of a data
        directory written by a version that kept raw tokens as tenant ids are derived once, at open."""
        private_dir(data_dir)
        self.path = data_dir / "mock.sqlite3"
        try:
            # SQLite gives its -wal and -shm files the database file's mode: 0600 for all three.
            private_file(self.path)
            self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as err:
            raise DatabaseUnusable(self.path, _reason(err)) from err
        try:
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            problems = [row[0] for row in self.db.execute("PRAGMA quick_check(1)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"database disk image is malformed: {problems[0]}")
            self.db.executescript(_SCHEMA)
            if tenant_of is not None:
                self._derive_tenants(tenant_of)
        except (OSError, sqlite3.Error) as err:
            self.db.close()
            raise DatabaseUnusable(self.path, _reason(err)) from err
        self._identity = _identity(self.path)

    def _derive_tenants(self, tenant_of: Callable[[str], str]) -> None:
        """Versions before derived tenant ids stored an API key's or open-mode token's tasks under the
        token itself (`tasks.tenant == tasks.token`); rename them to the derived id, with their keys and
        deliveries, so upgrading loses no one's videos. Once per database, in one transaction; a new
        database is only marked."""
        if self.db.execute("SELECT 1 FROM meta WHERE key='tenant_ids'").fetchone():
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            raw = [
                row[0] for row in self.db.execute("SELECT DISTINCT tenant FROM tasks WHERE tenant = token")
            ]
            for token in raw:
                derived = tenant_of(token)
                for table in ("tasks", "idempotency", "callbacks"):
                    self.db.execute(f"UPDATE {table} SET tenant=? WHERE tenant=?", (derived, token))
            self.db.execute("INSERT INTO meta VALUES ('tenant_ids', 'derived')")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        if raw:
            log.info("store: %d tenant(s) kept under their raw token renamed to derived ids", len(raw))

    async def aclose(self) -> None:
        self.db.close()

    async def ping(self) -> None:
        """Raise unless the database file is still the one opened, readable, a SQLite database, and
        answers a query (for `/readyz`). The open connection keeps working on a deleted or replaced
        file, and reads from its page cache, so a query alone said "ready" with a corrupt file."""
        try:
            identity = _identity(self.path)
            with self.path.open("rb") as handle:
                header = handle.read(len(_HEADER))
        except OSError as err:
            raise sqlite3.OperationalError(f"the database file cannot be read: {_reason(err)}") from err
        if identity != self._identity:
            raise sqlite3.OperationalError("the database file was removed or replaced while the server ran")
        if header != _HEADER:
            raise sqlite3.DatabaseError("the database file is no longer a SQLite database")
        self.db.execute("SELECT COUNT(*) FROM meta").fetchone()

    # --- meta ---
    async def secret(self) -> str:
        value = secrets.token_hex(32)
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('signing_secret', ?)", (value,))
        row = self.db.execute("SELECT value FROM meta WHERE key='signing_secret'").fetchone()
        return str(row[0])

    # --- tasks ---
    async def insert_task(self, task: Task) -> None:
        self.db.execute(
            "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                task.video_id, task.tenant, task.token, task.model_id, task.audio_url, task.callback_url,
                str(task.status), task.progress, task.error_code, task.error_message, task.duration,
                task.created_at, task.updated_at, json.dumps(task.plan.to_dict()),
            ),
        )  # fmt: skip

    async def get_task(self, video_id: str, tenant: str | None = None) -> Task | None:
        if tenant is None:
            row = self.db.execute("SELECT * FROM tasks WHERE video_id=?", (video_id,)).fetchone()
        else:
            row = self.db.execute(
                "SELECT * FROM tasks WHERE video_id=? AND tenant=?", (video_id, tenant)
            ).fetchone()
        return _task(row) if row else None

    async def list_tasks(
        self, tenant: str | None, status: Status | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[Task], int]:
        where, args = [], []
        if tenant is not None:
            where.append("tenant=?")
            args.append(tenant)
        if status is not None:
            where.append("status=?")
            args.append(str(status))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self.db.execute(f"SELECT COUNT(*) FROM tasks {clause}", args).fetchone()[0]
        rows = self.db.execute(
            f"SELECT * FROM tasks {clause} ORDER BY created_at DESC, video_id DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        ).fetchall()
        return [_task(r) for r in rows], int(total)

    async def unfinished(self) -> list[Task]:
        rows = self.db.execute(
            f"SELECT * FROM tasks WHERE status IN {_UNFINISHED_IN} ORDER BY created_at, video_id"
        ).fetchall()
        return [_task(r) for r in rows]

    async def count_unfinished(self, tenant: str | None = None) -> int:
        if tenant is None:
            return int(self.db.execute(_UNFINISHED_COUNT).fetchone()[0])
        row = self.db.execute(_UNFINISHED_COUNT + " AND tenant = ?", (tenant,)).fetchone()
        return int(row[0])

    async def count_by_status(self) -> dict[str, int]:
        """Tasks per status (for the metrics)."""
        rows = self.db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    async def advance(
        self,
        video_id: str,
        status: Status,
        *,
        progress: int | None = None,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        task = await self.get_task(video_id)
        if task is None or task.terminal or status.rank < task.status.rank:
            return None
        new_progress = task.progress if progress is None else max(task.progress, progress)
        if status is Status.FINISHED:
            new_progress = 100
        code, message = error if error else (None, None)
        now = int(time.time())
        self.db.execute(
            "UPDATE tasks SET status=?, progress=?, error_code=?, error_message=?,"
            " duration=COALESCE(?, duration), updated_at=?"
            f" WHERE video_id=? AND status NOT IN {_TERMINAL_IN}",
            (str(status), new_progress, code, message, duration, now, video_id),
        )
        return await self.get_task(video_id)

    async def set_progress(self, video_id: str, progress: int) -> None:
        self.db.execute(
            "UPDATE tasks SET progress=?, updated_at=? WHERE video_id=? AND status=? AND progress<?",
            (progress, int(time.time()), video_id, str(Status.IN_PROGRESSING), progress),
        )

    async def delete_tenant(self, tenant: str | None) -> list[str]:
        """Delete one tenant's rows (all when None); returns the deleted video ids."""
        if tenant is None:
            ids = [r[0] for r in self.db.execute("SELECT video_id FROM tasks")]
            for table in ("tasks", "idempotency", "tokens", "callbacks"):
                self.db.execute(f"DELETE FROM {table}")
            return ids
        ids = [r[0] for r in self.db.execute("SELECT video_id FROM tasks WHERE tenant=?", (tenant,))]
        for table in ("tasks", "idempotency", "tokens", "callbacks"):
            self.db.execute(f"DELETE FROM {table} WHERE tenant=?", (tenant,))
        return ids

    # --- idempotency ---
    async def idempotent(self, tenant: str, key: str, ttl: float) -> tuple[str, str] | None:
        row = self.db.execute(
            "SELECT body_hash, video_id FROM idempotency WHERE tenant=? AND key=? AND created_at>?",
            (tenant, key, time.time() - ttl),
        ).fetchone()
        return (row[0], row[1]) if row else None

    async def remember_key(self, tenant: str, key: str, body_hash: str, video_id: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?,?,?,?,?)",
            (tenant, key, body_hash, video_id, time.time()),
        )

    async def create_task(
        self, task: Task, key: str | None = None, body_hash: str = "", ttl: float = 86400.0
    ) -> tuple[str, str] | None:
        # One process, statements run inline on the event loop: nothing runs between these three.
        if key is not None:
            held = await self.idempotent(task.tenant, key, ttl)
            if held is not None:
                return held
        await self.insert_task(task)
        if key is not None:
            await self.remember_key(task.tenant, key, body_hash, task.video_id)
        return None

    # --- login tokens ---
    async def add_token(self, token: str, tenant: str, expired_at: int) -> None:
        self.db.execute("INSERT OR REPLACE INTO tokens VALUES (?,?,?)", (token, tenant, expired_at))

    async def token(self, token: str) -> tuple[str, int] | None:
        row = self.db.execute("SELECT tenant, expired_at FROM tokens WHERE token=?", (token,)).fetchone()
        return (row[0], int(row[1])) if row else None

    # --- callbacks ---
    async def save_delivery(self, record: Delivery) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO callbacks VALUES (:delivery_id,:video_id,:tenant,:url,:event,:attempts,"
            ":last_status,:last_error,:state,:created_at,:updated_at)",
            record,
        )

    async def deliveries(self, tenant: str | None = None, video_id: str | None = None) -> list[Delivery]:
        where, args = [], []
        if tenant is not None:
            where.append("tenant=?")
            args.append(tenant)
        if video_id is not None:
            where.append("video_id=?")
            args.append(video_id)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.execute(f"SELECT * FROM callbacks {clause} ORDER BY created_at", args).fetchall()
        return [dict(r) for r in rows]


def _task(row: sqlite3.Row) -> Task:
    return task_from_row(dict(row), json.loads(row["plan"] or "{}"))
