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

from mock_server.scale.postgres.deliveries import OUTBOX_CHANNEL, OUTBOX_LISTENER, Deliveries
from mock_server.scale.postgres.dispatch import Dispatch
from mock_server.scale.postgres.pool import StoreUnavailable, redact
from mock_server.scale.postgres.rate_windows import RateHit, RateWindows
from mock_server.scale.postgres.scenario_row import ScenarioRow, ScenarioState
from mock_server.scale.postgres.tasks import TaskRows

__all__ = [
    "OUTBOX_CHANNEL",
    "OUTBOX_LISTENER",
    "PostgresStore",
    "RateHit",
    "ScenarioState",
    "StoreUnavailable",
    "redact",
]


class PostgresStore(TaskRows, Dispatch, Deliveries, RateWindows, ScenarioRow):
    """Tasks, keys, tokens, deliveries and rate windows in the PostgreSQL database `dsn`.

    Nothing connects in the constructor (the composition root does no I/O): the pool opens, and the
    migrations run, on first use or `await open()`.
    """
