"""Fair render turns across every worker of a cluster: the PostgreSQL counterpart of `FairGate`.

RabbitMQ serves a queue first in, first out. If a render message named the task its worker must run,
a tenant that sends 64 tasks would keep every worker busy while another tenant's one task waited behind
all 64. The embedded server avoids that with `FairGate` (round-robin over waiting tenants, first come
first served within one); scaled out, the choice must be made once for every worker on every machine.

How: **a render message is a doorbell for one render turn, not a task.** Every accepted task still
publishes one message (`a2v.render(video_id)`), but the worker that receives it asks PostgreSQL which
task to run: `claim()` picks the fairest waiting task and marks it claimed by that message, in one
statement under a transaction-scoped advisory lock, so claims are serialised and each sees every
earlier claim (the shares are exact, cluster-wide). The fairest task belongs to the tenant with the
fewest tasks running now, then the tenant served longest ago (`tenant_turns`, a sequence number per
claim: a served tenant moves to the back of the line, as in `FairGate`), then the oldest (`queued`,
the insertion order). Another tenant's task therefore waits for at most the renders already under way
(about one per worker), never for the whole flood.

Why the delivery guarantees still hold:

- one message, at most one task: a unique index on `claimed_by`. A task's message is acknowledged
  after that task ended (acks late), as before;
- a worker killed mid-render never acknowledges; RabbitMQ redelivers the message, and `claim()` given
  a message that already holds a task returns that task again (with another attempt counted). The
  claim is keyed by the message, not leased for a time: nothing expires early under a slow render, and
  nothing stays stuck, because the redelivery is what resumes it. A Celery retry keeps the message's
  id and arguments, so it resumes too;
- a duplicate message (a lost ack, a sweep racing a slow confirm) resumes the same task: rendered
  twice, stored once, moved once (`advance()` is conditional, object keys are the video id);
- no task is left without a message: each task adds one waiting task and one message, and a message
  leaves without a task only when no task waits. A task whose publish was never confirmed keeps its
  debt even if another message ran it (`PostgresStore.claim_undispatched()`), so the sweep still
  publishes a message for it. Surplus messages (a task deleted, or ended by its deadline) find nothing
  and are acknowledged at once;
- a broker restart loses nothing: messages are persistent, and claims live in PostgreSQL.

Alternatives rejected: deferring a message (acknowledge it and publish it again at the back) while its
tenant holds its share cycles a whole flood through the broker for every turn another tenant gets;
one queue per tenant needs workers to subscribe to queues that appear at run time; RabbitMQ priorities
order by a fixed number, not by turns. A render turn is held for the task's whole state machine (its
planned pending time, the download, the render), since a worker runs all of it.

Example::

    async with pool.connection() as conn:
        video_id = await claim(conn, message="0661...", worker="host:1234")   # None: nothing waits
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

__all__ = ["claim"]

#: Arbitrary constant naming the claims' advisory lock (the migrations use ...0001).
_LOCK_ID = 0x0A2F_5C4E_0003

_UNFINISHED = "status IN ('pending', 'in_progressing')"

_WAITING = f"claimed_by IS NULL AND {_UNFINISHED}"

#: `waiting_tenants` walks the `tasks_waiting` index one tenant at a time (a skip scan), and `heads`
#: takes each tenant's oldest waiting task from it: the cost grows with the tenants waiting, not with
#: the tasks of a flood.
_CLAIM_SQL = f"""
WITH RECURSIVE resumed AS (
    UPDATE tasks SET attempts = attempts + 1, worker = %(worker)s
    WHERE claimed_by = %(message)s
    RETURNING video_id
), waiting_tenants (tenant) AS (
    (SELECT tenant FROM tasks WHERE {_WAITING} ORDER BY tenant LIMIT 1)
    UNION ALL
    SELECT (SELECT t.tenant FROM tasks AS t WHERE {_WAITING} AND t.tenant > w.tenant
            ORDER BY t.tenant LIMIT 1)
    FROM waiting_tenants AS w WHERE w.tenant IS NOT NULL
), heads AS (
    SELECT head.video_id, head.tenant, head.queued FROM waiting_tenants AS w
    CROSS JOIN LATERAL (
        SELECT video_id, tenant, queued FROM tasks AS t
        WHERE t.tenant = w.tenant AND {_WAITING} ORDER BY t.queued LIMIT 1
    ) AS head
), fairest AS (
    SELECT heads.video_id FROM heads
    LEFT JOIN (
        SELECT tenant, count(*) AS n FROM tasks
        WHERE claimed_by IS NOT NULL AND {_UNFINISHED} GROUP BY tenant
    ) AS running USING (tenant)
    LEFT JOIN tenant_turns AS served USING (tenant)
    WHERE NOT EXISTS (SELECT 1 FROM resumed)
    ORDER BY COALESCE(running.n, 0), served.turn NULLS FIRST, heads.queued
    LIMIT 1
), taken AS (
    UPDATE tasks AS t SET claimed_by = %(message)s, attempts = t.attempts + 1, worker = %(worker)s
    FROM fairest WHERE t.video_id = fairest.video_id AND t.claimed_by IS NULL
    RETURNING t.video_id, t.tenant
), turn AS (
    INSERT INTO tenant_turns (tenant, turn) SELECT tenant, nextval('tenant_turn') FROM taken
    ON CONFLICT (tenant) DO UPDATE SET turn = EXCLUDED.turn
)
SELECT video_id FROM resumed UNION ALL SELECT video_id FROM taken
"""


async def claim(conn: psycopg.AsyncConnection[dict[str, Any]], message: str, worker: str) -> str | None:
    """The task the render message `message` runs on `worker`: the one it already claimed (a
    redelivery, a retry, a duplicate), else the fairest waiting task, now claimed; None if none waits.

    `conn` must be in autocommit mode, with dict rows (as the store's pool gives them). The claim is
    its own transaction, its four statements (begin, lock, claim, commit) sent in one network round
    trip (pipeline mode): the lock that serialises every worker's claims is held only while the server
    runs them (under a millisecond).
    """
    async with conn.pipeline(), conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        cursor = await conn.execute(_CLAIM_SQL, {"message": message, "worker": worker})
    row = await cursor.fetchone()
    if row is None:
        return None
    return str(row["video_id"])
