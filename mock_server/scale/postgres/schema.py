"""Versioned schema migrations of the PostgreSQL store, applied at start by whichever process comes first.

Each migration is `(version, sql)`; `schema_migrations` records the versions applied. Every replica and
worker calls `migrate()` at start: a transaction-scoped advisory lock serialises them, so two processes
starting at once never apply a version twice, and a process that finds every version applied only pays
one round trip. Migrations are append-only: a shipped version is never edited, a change is a new version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from psycopg.rows import tuple_row

if TYPE_CHECKING:
    import psycopg

__all__ = ["MIGRATIONS", "migrate"]

#: Arbitrary constant naming this schema's advisory lock (pg_advisory_xact_lock takes a bigint).
_LOCK_ID = 0x0A2F_5C4E_0001

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE tasks (
            video_id TEXT PRIMARY KEY, tenant TEXT NOT NULL, token TEXT NOT NULL, model_id TEXT NOT NULL,
            audio_url TEXT NOT NULL, callback_url TEXT, status TEXT NOT NULL, progress INTEGER NOT NULL,
            error_code INTEGER, error_message TEXT, duration DOUBLE PRECISION, created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL, plan JSONB NOT NULL DEFAULT '{}',
            dispatched_at DOUBLE PRECISION, attempts INTEGER NOT NULL DEFAULT 0, worker TEXT
        );
        CREATE INDEX tasks_undispatched ON tasks (created_at) WHERE dispatched_at IS NULL;
        CREATE INDEX tasks_tenant ON tasks (tenant, created_at DESC, video_id DESC);
        CREATE INDEX tasks_unfinished ON tasks (tenant) WHERE status IN ('pending', 'in_progressing');
        CREATE TABLE idempotency (
            tenant TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL, video_id TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (tenant, key)
        );
        CREATE TABLE tokens (token TEXT PRIMARY KEY, tenant TEXT NOT NULL, expired_at BIGINT NOT NULL);
        CREATE INDEX tokens_tenant ON tokens (tenant);
        CREATE TABLE callbacks (
            delivery_id TEXT PRIMARY KEY, video_id TEXT NOT NULL, tenant TEXT NOT NULL, url TEXT NOT NULL,
            event TEXT NOT NULL, attempts INTEGER NOT NULL, last_status INTEGER, last_error TEXT,
            state TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
            next_at DOUBLE PRECISION NOT NULL DEFAULT 0
        );
        CREATE INDEX callbacks_due ON callbacks (next_at) WHERE state IN ('pending', 'retrying');
        CREATE UNIQUE INDEX callbacks_one_per_end ON callbacks (video_id, event);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE ratelimit (
            key TEXT PRIMARY KEY, started DOUBLE PRECISION NOT NULL, used INTEGER NOT NULL,
            ok BOOLEAN NOT NULL
        );
        """,
    ),
    # 2: the runtime scenario every replica applies (`mock_server.scale.shared_scenario`): one row whose
    # version changes with every change, and the resets the replicas replay on their own state.
    (
        2,
        """
        CREATE TABLE scenario (
            id BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id), version BIGINT NOT NULL, body JSONB,
            seeded BIGINT NOT NULL
        );
        INSERT INTO scenario VALUES (TRUE, 0, NULL, 0);
        CREATE TABLE scenario_resets (
            version BIGINT PRIMARY KEY, tenant TEXT, at DOUBLE PRECISION NOT NULL
        );
        """,
    ),
    (
        3,
        # Fair render turns (scale/postgres/fair_claims.py): `queued` orders a tenant's tasks first come first
        # served (created_at is whole seconds); `claimed_by` names the render message whose worker runs
        # the task (one task per message); `tenant_turns` remembers when each tenant was last served.
        """
        ALTER TABLE tasks ADD COLUMN queued BIGINT GENERATED ALWAYS AS IDENTITY,
            ADD COLUMN claimed_by TEXT;
        CREATE UNIQUE INDEX tasks_claimed_by ON tasks (claimed_by) WHERE claimed_by IS NOT NULL;
        CREATE INDEX tasks_waiting ON tasks (tenant, queued)
            WHERE claimed_by IS NULL AND status IN ('pending', 'in_progressing');
        CREATE INDEX tasks_running ON tasks (tenant)
            WHERE claimed_by IS NOT NULL AND status IN ('pending', 'in_progressing');
        CREATE SEQUENCE tenant_turn;
        CREATE TABLE tenant_turns (tenant TEXT PRIMARY KEY, turn BIGINT NOT NULL);
        """,
    ),
    (
        4,
        # A delivery written to the outbox wakes every replica's delivery loops at once. NOTIFY is
        # transactional: it is sent when the row is committed (never for a rolled-back end), whichever
        # process and statement wrote the row.
        """
        CREATE FUNCTION a2v_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('a2v_outbox', NEW.delivery_id);
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER callbacks_notify AFTER INSERT ON callbacks
            FOR EACH ROW EXECUTE FUNCTION a2v_outbox_notify();
        """,
    ),
)


async def migrate(conn: psycopg.AsyncConnection[Any]) -> list[int]:
    """Apply every migration `conn`'s database lacks, in order; returns the versions applied now."""
    applied: list[int] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await conn.cursor(row_factory=tuple_row).execute("SELECT version FROM schema_migrations")
        done = {int(row[0]) for row in await cursor.fetchall()}
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            await conn.execute(sql.encode())
            await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
            applied.append(version)
    return applied
