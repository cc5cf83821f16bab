"""Tasks, idempotency keys and login tokens: the rows every replica and worker reads and moves forward."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from mock_server.scale.postgres.pool import (
    COLUMNS,
    DELIVERY_COLUMNS,
    RANK_SQL,
    PostgresPool,
    task_args,
    task_of_row,
    where_clause,
)

if TYPE_CHECKING:
    from a2v_spec import ErrorCode, Status
    from mock_server.store.protocol import Task


class TaskRows(PostgresPool):
    """Tasks, idempotency keys and login tokens: the rows every replica and worker reads and moves forward."""

    # --- tasks ---
    async def insert_task(self, task: Task) -> None:
        await self._run(f"INSERT INTO tasks ({COLUMNS}) VALUES ({', '.join(['%s'] * 14)})", task_args(task))

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
                f"INSERT INTO tasks ({COLUMNS}) VALUES ({', '.join(['%s'] * 14)})", task_args(task)
            )
        return None

    async def get_task(self, video_id: str, tenant: str | None = None) -> Task | None:
        if tenant is None:
            row = await self._one(f"SELECT {COLUMNS} FROM tasks WHERE video_id = %s", (video_id,))
        else:
            row = await self._one(
                f"SELECT {COLUMNS} FROM tasks WHERE video_id = %s AND tenant = %s", (video_id, tenant)
            )
        return task_of_row(row) if row else None

    async def list_tasks(
        self, tenant: str | None, status: Status | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[Task], int]:
        where, args = where_clause(tenant=tenant, status=None if status is None else str(status))
        rows = await self._all(
            f"SELECT {COLUMNS}, count(*) OVER () AS total FROM tasks {where}"
            " ORDER BY created_at DESC, video_id DESC LIMIT %s OFFSET %s",
            [*args, limit, offset],
        )
        if rows:
            return [task_of_row(r) for r in rows], int(rows[0]["total"])
        if offset == 0:
            return [], 0
        row = await self._one(f"SELECT count(*) AS n FROM tasks {where}", args)  # a page past the end
        return [], int(row["n"]) if row else 0

    async def unfinished(self) -> list[Task]:
        rows = await self._all(
            f"SELECT {COLUMNS} FROM tasks WHERE status IN ('pending', 'in_progressing')"
            " ORDER BY created_at, video_id"
        )
        return [task_of_row(r) for r in rows]

    async def count_unfinished(self, tenant: str | None = None) -> int:
        """Tasks waiting or running, overall or of one tenant (its queue share)."""
        where = "WHERE status IN ('pending', 'in_progressing')" + (" AND tenant = %s" if tenant else "")
        row = await self._one(f"SELECT count(*) AS n FROM tasks {where}", (tenant,) if tenant else None)
        return int(row["n"]) if row else 0

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
                    AND {RANK_SQL} <= %(rank)s
                RETURNING {COLUMNS}
            ), outbox AS (
                INSERT INTO callbacks ({DELIVERY_COLUMNS}, next_at)
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
        return task_of_row(row) if row else None

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
