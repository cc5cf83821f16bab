"""Which task a render message runs (the fair claim), and the sweep of tasks not dispatched or overdue."""

from __future__ import annotations

from mock_server.scale.postgres import fair_claims as pgfair
from mock_server.scale.postgres.pool import NOW_SQL, PostgresPool


class Dispatch(PostgresPool):
    """Which task a render message runs (the fair claim), and the sweep of tasks not dispatched or overdue."""

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
        await self._run(f"UPDATE tasks SET dispatched_at = {NOW_SQL} WHERE video_id = %s", (video_id,))

    async def claim_undispatched(self, older_than: float, limit: int = 100) -> list[str]:
        """Tasks created over `older_than` seconds ago whose message was never confirmed (a replica died
        between commit and publish, or the broker was down): marked dispatched for this replica to
        publish (`release_dispatch()` if it cannot).

        A message is owed while the task is unfinished, and also once another task's message ran it
        (`pgfair`): that message then did this task's turn, and the other task still needs one."""
        rows = await self._all(
            f"UPDATE tasks SET dispatched_at = {NOW_SQL} WHERE video_id IN ("
            " SELECT video_id FROM tasks WHERE dispatched_at IS NULL"
            " AND (status IN ('pending', 'in_progressing') OR claimed_by <> video_id)"
            f" AND created_at < {NOW_SQL} - %s ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)"
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
            f" AND created_at + %s < {NOW_SQL} ORDER BY created_at LIMIT %s",
            (deadline_seconds, limit),
        )
        return [str(r["video_id"]) for r in rows]
