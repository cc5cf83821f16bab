"""The PostgreSQL store: the SQLite store's semantics, plus what replicas share (atomic idempotency
keys, one end per task with its outbox row, SKIP LOCKED deliveries, shared rate windows)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from a2v_spec import ErrorCode, Status
from mock_server.scale.postgres.schema import MIGRATIONS, migrate
from mock_server.scale.postgres.store import PostgresStore, StoreUnavailable, redact
from mock_server.scenario_values import Plan, Timings
from mock_server.store import Task, new_video_id
from mock_server.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
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
        "status": Status.PENDING,
        "progress": 0,
        "error_code": None,
        "error_message": None,
        "duration": None,
        "created_at": now,
        "updated_at": now,
        "plan": Plan(timings=Timings(pending_seconds=0.5), accepted_at=float(now), base_url="http://x"),
    }
    values.update(changes)
    return Task(**values)


pytestmark = pytest.mark.anyio


@pytest.fixture
async def pg(pg_dsn: str) -> AsyncIterator[PostgresStore]:
    store = await PostgresStore(pg_dsn).open()
    yield store
    await store.aclose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path, pg_dsn: str) -> AsyncIterator[Any]:
    """Both stores, for the semantics they must share."""
    if request.param == "sqlite":
        sqlite = SqliteStore(tmp_path)
        yield sqlite
        await sqlite.aclose()
    else:
        made = await PostgresStore(pg_dsn).open()
        yield made
        await made.aclose()


async def test_task_round_trip_and_listing(store: Any) -> None:
    first, second = make_task(created_at=100), make_task(created_at=200)
    other = make_task("t2")
    for task in (first, second, other):
        await store.insert_task(task)
    assert await store.get_task(first.video_id) == first
    assert await store.get_task(first.video_id, "t2") is None
    tasks, total = await store.list_tasks("t1", limit=1)
    assert (total, [t.video_id for t in tasks]) == (2, [second.video_id])
    tasks, total = await store.list_tasks("t1", limit=1, offset=5)
    assert (tasks, total) == ([], 2)
    assert (await store.list_tasks(None, status=Status.PENDING))[1] == 3
    assert await store.count_unfinished() == 3
    assert [t.video_id for t in await store.unfinished()] == [first.video_id, second.video_id, other.video_id]


@pytest.mark.parametrize(
    ("moves", "expected"),
    [
        (
            [(Status.IN_PROGRESSING, {"progress": 1}), (Status.FINISHED, {"duration": 1.5})],
            ("finished", 100, 1.5),
        ),
        (
            [(Status.FINISHED, {}), (Status.ERROR, {"error": (ErrorCode.INTERNAL_ERROR, "x")})],
            ("finished", 100, None),
        ),
        ([(Status.IN_PROGRESSING, {"progress": 40}), (Status.PENDING, {})], ("in_progressing", 40, None)),
        (
            [(Status.ERROR, {"error": (ErrorCode.FILE_NOT_FOUND, "gone")}), (Status.IN_PROGRESSING, {})],
            ("error", 0, None),
        ),
    ],
)
async def test_advance_only_moves_forward(
    store: Any, moves: list[tuple[Status, dict[str, Any]]], expected: tuple[Any, ...]
) -> None:
    task = make_task()
    await store.insert_task(task)
    for status, kwargs in moves:
        await store.advance(task.video_id, status, **kwargs)
    found = await store.get_task(task.video_id)
    assert (found.status, found.progress, found.duration) == expected


async def test_progress_keys_tokens_secret_and_reset(store: Any) -> None:
    task = make_task()
    await store.insert_task(task)
    await store.advance(task.video_id, Status.IN_PROGRESSING, progress=1)
    await store.set_progress(task.video_id, 50)
    await store.set_progress(task.video_id, 30)  # never back
    assert (await store.get_task(task.video_id)).progress == 50
    await store.remember_key("t1", "k", "hash", task.video_id)
    assert await store.idempotent("t1", "k", 60) == ("hash", task.video_id)
    assert await store.idempotent("t2", "k", 60) is None
    await store.add_token("tok", "user:a", 123)
    assert await store.token("tok") == ("user:a", 123)
    secret = await store.secret()
    assert len(secret) == 64
    assert await store.secret() == secret
    assert await store.delete_tenant("t1") == [task.video_id]
    assert await store.get_task(task.video_id) is None
    assert await store.idempotent("t1", "k", 60) is None


async def test_migrations_are_versioned_and_run_once(pg_dsn: str, pg: PostgresStore) -> None:
    async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as conn:
        assert await migrate(conn) == []  # the store applied them when it opened
        cursor = await conn.execute("SELECT version FROM schema_migrations ORDER BY version")
        versions = [r[0] for r in await cursor.fetchall()]
    assert versions == [v for v, _ in MIGRATIONS]
    again = await PostgresStore(pg_dsn).open()  # a second replica starting finds nothing to do
    await again.aclose()


async def test_one_idempotency_key_gives_one_id_under_a_race(pg_dsn: str, pg: PostgresStore) -> None:
    """Four replicas (stores with their own pools) submit one key 20 times at once: one task, one id."""
    stores = [await PostgresStore(pg_dsn, migrate_schema=False).open() for _ in range(4)]

    async def submit(i: int) -> str:
        task = make_task()
        held = await stores[i % 4].create_task(task, "same-key", "hash")
        return task.video_id if held is None else held[1]

    try:
        ids = set(await asyncio.gather(*(submit(i) for i in range(20))))
    finally:
        for s in stores:
            await s.aclose()
    assert len(ids) == 1
    assert (await pg.list_tasks("t1"))[1] == 1


async def test_a_different_body_sees_the_held_key(pg: PostgresStore) -> None:
    first = make_task()
    assert await pg.create_task(first, "k", "h1") is None
    assert await pg.create_task(make_task(), "k", "h2") == ("h1", first.video_id)
    assert await pg.create_task(make_task(), "k", "h2", ttl=0.0) is None  # an expired key is taken over


async def test_ending_twice_moves_once_and_writes_one_outbox_row(pg: PostgresStore) -> None:
    task = make_task(callback_url="http://127.0.0.1:9/cb")
    await pg.insert_task(task)
    results = await asyncio.gather(
        *(pg.advance(task.video_id, Status.FINISHED, duration=1.0) for _ in range(8))
    )
    assert sum(r is not None for r in results) == 1
    await pg.advance(task.video_id, Status.ERROR, error=(ErrorCode.INTERNAL_ERROR, "late"))
    [delivery] = await pg.deliveries(video_id=task.video_id)
    assert (delivery["event"], delivery["state"], delivery["attempts"]) == ("video.finished", "pending", 0)


async def test_a_delivery_is_claimed_by_one_replica_at_a_time(pg_dsn: str, pg: PostgresStore) -> None:
    task = make_task(callback_url="http://127.0.0.1:9/cb")
    await pg.insert_task(task)
    await pg.advance(task.video_id, Status.FINISHED)
    other = await PostgresStore(pg_dsn, migrate_schema=False).open()
    try:
        async with pg.claim_delivery() as mine:
            assert mine is not None
            async with other.claim_delivery() as theirs:
                assert theirs is None  # locked: skipped, not waited for
            mine.update(attempts=1, last_status=200, state="delivered", updated_at=time.time())
        async with other.claim_delivery() as theirs:
            assert theirs is None  # delivered: never due again
    finally:
        await other.aclose()
    [record] = await pg.deliveries()
    assert (record["state"], record["attempts"], record["last_status"]) == ("delivered", 1, 200)


async def test_rate_windows_are_atomic_across_replicas(pg_dsn: str, pg: PostgresStore) -> None:
    stores = [pg, await PostgresStore(pg_dsn, migrate_schema=False).open()]
    try:
        hits = await asyncio.gather(*(stores[i % 2].rate_hit("tenant", 30, 60.0) for i in range(100)))
    finally:
        await stores[1].aclose()
    assert sum(h.allowed for h in hits) == 30
    assert max(h.used for h in hits) == 30
    assert all(0 < h.reset <= 60 for h in hits)
    assert (await pg.rate_hit("tenant", 30, 60.0, cost=0)).allowed  # reporting only
    assert (await pg.rate_hit("other", 30, 60.0)).used == 1
    await pg.reset_rate("tenant")
    assert (await pg.rate_hit("tenant", 30, 60.0)).used == 1


async def test_a_new_window_starts_after_per_seconds(pg: PostgresStore) -> None:
    assert (await pg.rate_hit("k", 1, 0.3)).allowed
    assert not (await pg.rate_hit("k", 1, 0.3)).allowed
    await asyncio.sleep(0.35)
    assert (await pg.rate_hit("k", 1, 0.3)).allowed


async def test_a_dropped_connection_fails_once_then_recovers(pg_dsn: str) -> None:
    store = await PostgresStore(pg_dsn, min_size=1, max_size=1).open()
    try:
        await store.ping()
        dbname = pg_dsn.rsplit("/", 1)[1]
        with psycopg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            )
        with pytest.raises(StoreUnavailable, match="unavailable"):
            await store.ping()
        deadline = time.monotonic() + 10
        while True:  # the pool replaces the broken connection in the background
            try:
                await store.ping()
                break
            except StoreUnavailable:
                assert time.monotonic() < deadline, "the store did not recover"
                await asyncio.sleep(0.05)
    finally:
        await store.aclose()


async def test_an_unreachable_database_is_named() -> None:
    with pytest.raises(StoreUnavailable, match="not reachable"):
        await PostgresStore("postgresql://postgres:pw@127.0.0.1:1/none", timeout=0.5).open()
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


async def test_create_task_claims_the_key_in_both_stores(store: Any) -> None:
    first = make_task()
    assert await store.create_task(first, "k", "h1") is None
    assert await store.create_task(make_task(), "k", "h2") == ("h1", first.video_id)
    assert await store.create_task(make_task(), None) is None  # no key: always a new task
    assert (await store.list_tasks("t1"))[1] == 2
    assert await store.count_by_status() == {"pending": 2}


async def _claims(pg: PostgresStore, tasks: dict[str, Task], messages: list[str]) -> list[str | None]:
    """Which tasks (by name in `tasks`) the render messages claim, one after the other."""
    names = {task.video_id: name for name, task in tasks.items()}
    out = []
    for message in messages:
        video_id = await pg.claim_render(message, "w")
        out.append(None if video_id is None else names[video_id])
    return out


async def test_render_turns_go_round_robin_between_tenants(pg: PostgresStore) -> None:
    """One slot: a's flood of three, then b's one; b gets the turn after a's first, as with FairGate."""
    tasks = {f"a{i}": make_task("a") for i in range(3)} | {"b0": make_task("b")}
    for task in tasks.values():
        await pg.insert_task(task)
    order: list[str | None] = []
    for turn in range(5):
        [name] = await _claims(pg, tasks, [f"m{turn}"])
        order.append(name)
        if name is not None:
            await pg.advance(tasks[name].video_id, Status.FINISHED)
    assert order == ["a0", "b0", "a1", "a2", None]


async def test_a_tenant_with_fewer_renders_running_goes_first(pg: PostgresStore) -> None:
    tasks = {f"a{i}": make_task("a") for i in range(4)} | {f"b{i}": make_task("b") for i in range(2)}
    for task in tasks.values():
        await pg.insert_task(task)
    # Four slots, nothing ending: shares split evenly while both tenants wait, then a takes the rest.
    assert await _claims(pg, tasks, ["m0", "m1", "m2", "m3", "m4", "m5", "m6"]) == [
        "a0", "b0", "a1", "b1", "a2", "a3", None
    ]  # fmt: skip


async def test_a_message_that_holds_a_task_gets_it_again(pg: PostgresStore) -> None:
    """A redelivery (worker killed), a Celery retry or a duplicate resumes the claimed task, counted as
    another attempt by the worker that took it; the task is not offered to any other message."""
    first, second = make_task("a"), make_task("a")
    await pg.insert_task(first)
    await pg.insert_task(second)
    assert await pg.claim_render("m", "w1") == first.video_id
    assert await pg.claim_render("m", "w2") == first.video_id
    assert await pg.attempt_of(first.video_id) == (2, "w2")
    assert await pg.claim_render("other", "w3") == second.video_id
    await pg.advance(first.video_id, Status.FINISHED)
    assert await pg.claim_render("m", "w1") == first.video_id  # ended: the worker sees it and stops
    assert await pg.claim_render("late", "w1") is None


async def test_claims_are_atomic_across_workers(pg_dsn: str, pg: PostgresStore) -> None:
    """Eight workers (stores with their own pools) claim at once: each task goes to one message, and
    the shares are those of claims made one at a time (two each, then a takes the rest)."""
    tasks = {f"a{i}": make_task("a") for i in range(6)} | {f"b{i}": make_task("b") for i in range(2)}
    for task in tasks.values():
        await pg.insert_task(task)
    workers = [await PostgresStore(pg_dsn, migrate_schema=False).open() for _ in range(8)]
    try:
        claimed = list(
            await asyncio.gather(*(w.claim_render(f"m{i}", f"w{i}") for i, w in enumerate(workers[:4])))
        )
        owners = {task.video_id: task.tenant for task in tasks.values()}
        assert sorted(owners[str(video_id)] for video_id in claimed) == ["a", "a", "b", "b"]
        claimed += await asyncio.gather(*(w.claim_render(f"n{i}", f"w{i}") for i, w in enumerate(workers)))
    finally:
        for w in workers:
            await w.aclose()
    assert sorted(v for v in claimed if v is not None) == sorted(t.video_id for t in tasks.values())
    assert claimed.count(None) == 4


async def test_a_message_is_owed_to_a_task_another_message_ran(pg: PostgresStore) -> None:
    """The sweep publishes for undispatched tasks: unfinished ones, and finished ones whose turn another
    task's message took (that task is left without a message of its own otherwise)."""
    ran_by_other, ran_by_own, ended_unclaimed = make_task("a"), make_task("a"), make_task("a")
    for task in (ran_by_other, ran_by_own, ended_unclaimed):
        await pg.insert_task(task)
    assert await pg.claim_render("someone-else", "w") == ran_by_other.video_id
    assert await pg.claim_render(ran_by_own.video_id, "w") == ran_by_own.video_id
    for task in (ran_by_other, ran_by_own, ended_unclaimed):
        await pg.advance(task.video_id, Status.FINISHED)
    assert await pg.claim_undispatched(-5) == [ran_by_other.video_id]


async def test_a_reset_forgets_the_tenants_turns(pg: PostgresStore) -> None:
    tasks = {"b0": make_task("b"), "a0": make_task("a")}
    for task in tasks.values():
        await pg.insert_task(task)
    assert await _claims(pg, tasks, ["m0", "m1"]) == ["b0", "a0"]  # a served last
    for task in tasks.values():
        await pg.advance(task.video_id, Status.FINISHED)
    await pg.delete_tenant("a")
    tasks |= {"b1": make_task("b"), "a1": make_task("a")}
    for name in ("b1", "a1"):
        await pg.insert_task(tasks[name])
    assert await _claims(pg, tasks, ["m2"]) == ["a1"]  # a's turn forgotten: never served goes first


async def test_statements_wait_for_the_migrations_of_a_fresh_database(pg_dsn: str) -> None:
    """Statements arriving while the first one opens and migrates the store wait for the migrations
    (a replica's sweep meeting 'relation "tasks" does not exist' ended it for good)."""
    store = PostgresStore(pg_dsn)
    try:
        first = asyncio.create_task(store.count_unfinished())
        others = []
        while not first.done():
            others.append(asyncio.create_task(store.count_unfinished()))
            await asyncio.sleep(0.001)
        assert await asyncio.gather(first, *others) == [0] * (len(others) + 1)
    finally:
        await store.aclose()
