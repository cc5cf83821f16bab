"""The PostgreSQL store: the SQLite store's semantics, plus what replicas share (atomic idempotency
keys, one end per task with its outbox row, SKIP LOCKED deliveries, shared rate windows)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from mock_server.pgschema import MIGRATIONS, migrate
from mock_server.pgstore import PostgresStore, StoreUnavailable, redact
from mock_server.store import Store, Task, new_video_id

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def make_task(tenant: str = "t1", callback_url: str | None = None, **changes: Any) -> Task:
    now = int(time.time())
    values: dict[str, Any] = {
        "video_id": new_video_id(),
        "tenant": tenant,
        "token": tenant,
        "model_id": "eva_a0008",
        "audio_url": "http://127.0.0.1/a.wav",
        "callback_url": callback_url,
        "status": "pending",
        "progress": 0,
        "error_code": None,
        "error_message": None,
        "duration": None,
        "created_at": now,
        "updated_at": now,
        "plan": {"pending_seconds": 0.5, "base_url": "http://x"},
    }
    values.update(changes)
    return Task(**values)


@pytest.fixture
def pg(pg_dsn: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_dsn)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Both stores, for the semantics they must share."""
    if request.param == "sqlite":
        sqlite = Store(tmp_path)
        yield sqlite
        sqlite.close()
    else:
        yield request.getfixturevalue("pg")


def test_task_round_trip_and_listing(store: Any) -> None:
    first, second = make_task(created_at=100), make_task(created_at=200)
    other = make_task("t2")
    for task in (first, second, other):
        store.insert_task(task)
    assert store.get_task(first.video_id) == first
    assert store.get_task(first.video_id, "t2") is None
    tasks, total = store.list_tasks("t1", limit=1)
    assert (total, [t.video_id for t in tasks]) == (2, [second.video_id])
    tasks, total = store.list_tasks("t1", limit=1, offset=5)
    assert (tasks, total) == ([], 2)
    assert store.list_tasks(None, status="pending")[1] == 3
    assert store.count_unfinished() == 3
    assert [t.video_id for t in store.unfinished()] == [first.video_id, second.video_id, other.video_id]


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        ([("in_progressing", {"progress": 1}), ("finished", {"duration": 1.5})], ("finished", 100, 1.5)),
        ([("finished", {}), ("error", {"error": (1500, "x")})], ("finished", 100, None)),
        ([("in_progressing", {"progress": 40}), ("pending", {})], ("in_progressing", 40, None)),
        ([("error", {"error": (10001, "gone")}), ("in_progressing", {})], ("error", 0, None)),
    ],
)
def test_advance_only_moves_forward(
    store: Any, moves: list[tuple[str, dict[str, Any]]], expected: tuple[Any, ...]
) -> None:
    task = make_task()
    store.insert_task(task)
    for status, kwargs in moves:
        store.advance(task.video_id, status, **kwargs)
    found = store.get_task(task.video_id)
    assert (found.status, found.progress, found.duration) == expected


def test_progress_keys_tokens_secret_and_reset(store: Any) -> None:
    task = make_task()
    store.insert_task(task)
    store.advance(task.video_id, "in_progressing", progress=1)
    store.set_progress(task.video_id, 50)
    store.set_progress(task.video_id, 30)  # never back
    assert store.get_task(task.video_id).progress == 50
    store.remember_key("t1", "k", "hash", task.video_id)
    assert store.idempotent("t1", "k", 60) == ("hash", task.video_id)
    assert store.idempotent("t2", "k", 60) is None
    store.add_token("tok", "user:a", 123)
    assert store.token("tok") == ("user:a", 123)
    secret = store.secret()
    assert len(secret) == 64
    assert store.secret() == secret
    assert store.delete_tenant("t1") == [task.video_id]
    assert store.get_task(task.video_id) is None
    assert store.idempotent("t1", "k", 60) is None


def test_migrations_are_versioned_and_run_once(pg_dsn: str, pg: PostgresStore) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        assert migrate(conn) == []  # the store applied them at start
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [v for v, _ in MIGRATIONS]
    again = PostgresStore(pg_dsn)  # a second replica starting finds nothing to do
    again.close()


def test_one_idempotency_key_gives_one_id_under_a_race(pg_dsn: str, pg: PostgresStore) -> None:
    """20 replicas (threads with their own pools) submit the same key at once: one task, one id."""
    stores = [PostgresStore(pg_dsn, migrate_schema=False) for _ in range(4)]
    barrier = threading.Barrier(20)

    def submit(i: int) -> str:
        task = make_task()
        barrier.wait()
        held = stores[i % 4].create_task(task, "same-key", "hash")
        return task.video_id if held is None else held[1]

    try:
        with ThreadPoolExecutor(20) as pool:
            ids = set(pool.map(submit, range(20)))
    finally:
        for s in stores:
            s.close()
    assert len(ids) == 1
    assert pg.list_tasks("t1")[1] == 1


def test_a_different_body_sees_the_held_key(pg: PostgresStore) -> None:
    first = make_task()
    assert pg.create_task(first, "k", "h1") is None
    assert pg.create_task(make_task(), "k", "h2") == ("h1", first.video_id)
    assert pg.create_task(make_task(), "k", "h2", ttl=0.0) is None  # an expired key is taken over


def test_ending_twice_moves_once_and_writes_one_outbox_row(pg: PostgresStore) -> None:
    task = make_task(callback_url="http://127.0.0.1:9/cb")
    pg.insert_task(task)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: pg.advance(task.video_id, "finished", duration=1.0), range(8)))
    assert sum(r is not None for r in results) == 1
    pg.advance(task.video_id, "error", error=(1500, "late"))
    [delivery] = pg.deliveries(video_id=task.video_id)
    assert (delivery["event"], delivery["state"], delivery["attempts"]) == ("video.finished", "pending", 0)


def test_a_delivery_is_claimed_by_one_replica_at_a_time(pg_dsn: str, pg: PostgresStore) -> None:
    task = make_task(callback_url="http://127.0.0.1:9/cb")
    pg.insert_task(task)
    pg.advance(task.video_id, "finished")
    other = PostgresStore(pg_dsn, migrate_schema=False)
    try:
        with pg.claim_delivery() as mine:
            assert mine is not None
            with other.claim_delivery() as theirs:
                assert theirs is None  # locked: skipped, not waited for
            mine.update(attempts=1, last_status=200, state="delivered", updated_at=time.time())
        with other.claim_delivery() as theirs:
            assert theirs is None  # delivered: never due again
    finally:
        other.close()
    [record] = pg.deliveries()
    assert (record["state"], record["attempts"], record["last_status"]) == ("delivered", 1, 200)


def test_rate_windows_are_atomic_across_replicas(pg_dsn: str, pg: PostgresStore) -> None:
    stores = [pg, PostgresStore(pg_dsn, migrate_schema=False)]
    try:
        with ThreadPoolExecutor(16) as pool:
            hits = list(pool.map(lambda i: stores[i % 2].rate_hit("tenant", 30, 60.0), range(100)))
    finally:
        stores[1].close()
    assert sum(h.allowed for h in hits) == 30
    assert max(h.used for h in hits) == 30
    assert all(0 < h.reset <= 60 for h in hits)
    assert pg.rate_hit("tenant", 30, 60.0, cost=0).allowed  # reporting only
    assert pg.rate_hit("other", 30, 60.0).used == 1
    pg.reset_rate("tenant")
    assert pg.rate_hit("tenant", 30, 60.0).used == 1


def test_a_new_window_starts_after_per_seconds(pg: PostgresStore) -> None:
    assert pg.rate_hit("k", 1, 0.3).allowed
    assert not pg.rate_hit("k", 1, 0.3).allowed
    time.sleep(0.35)
    assert pg.rate_hit("k", 1, 0.3).allowed


def test_a_dropped_connection_fails_once_then_recovers(pg_dsn: str) -> None:
    store = PostgresStore(pg_dsn, min_size=1, max_size=1)
    try:
        store.ping()
        dbname = pg_dsn.rsplit("/", 1)[1]
        with psycopg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
        with pytest.raises(StoreUnavailable, match="unavailable"):
            store.ping()
        deadline = time.monotonic() + 10
        while True:  # the pool replaces the broken connection in the background
            try:
                store.ping()
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store did not recover"
                time.sleep(0.05)
    finally:
        store.close()


def test_an_unreachable_database_is_named() -> None:
    with pytest.raises(StoreUnavailable, match="not reachable"):
        PostgresStore("postgresql://postgres:pw@127.0.0.1:1/none", timeout=0.5)
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
