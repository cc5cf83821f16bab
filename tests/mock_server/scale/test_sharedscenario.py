"""The runtime scenario shared by replicas: two `SharedScenario`s (two replicas' views) over one database,
and a replica's services reset while its queue sweep must keep running."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode, Status
from a2v_testkit.backing_services import AMQP_URL, S3_ENV
from mock_server.api.scenario import Scenario
from mock_server.config import Settings
from mock_server.runtime.services import build_services
from mock_server.scale.postgres.store import PostgresStore
from mock_server.scale.shared_scenario import SharedScenario
from mock_server.scenario_values import LatencyRange, Outcome, TaskFate

from .test_pgstore import make_task

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

pytestmark = pytest.mark.anyio


class Replica:
    """One replica's scenario, with what it applied and forgot recorded."""

    def __init__(self, store: PostgresStore, settings: Settings) -> None:
        self.applied = 0
        self.forgotten: list[str | None] = []
        self.scenario = Scenario.from_settings(settings)
        self.control = SharedScenario(store, self.scenario, settings, self, self)

    def take(self, scenario: Scenario) -> None:
        """The replica's `ScenarioHolder`: counts each time it is handed the scenario's values."""
        assert scenario is self.scenario
        self.applied += 1

    def forget(self, tenant: str | None) -> None:
        """The replica's `TenantMemory`: records each reset replayed here."""
        self.forgotten.append(tenant)


@pytest.fixture
async def stores(pg_dsn: str) -> AsyncIterator[list[PostgresStore]]:
    made = [await PostgresStore(pg_dsn).open() for _ in range(2)]
    yield made
    for store in made:
        await store.aclose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, seed=3, error_rate=0.25)


@pytest.fixture
async def replicas(stores: list[PostgresStore], settings: Settings) -> list[Replica]:
    made = [Replica(store, settings) for store in stores]
    for replica in made:
        await replica.control.sync()
    return made


async def test_a_change_on_one_replica_is_applied_by_the_other_at_its_next_sync(
    replicas: list[Replica], stores: list[PostgresStore]
) -> None:
    one, other = replicas
    await one.control.put({"error_rate": 0.5, "latency_ms": {"min": 5, "max": 10}})
    assert one.scenario.error_rate == 0.5  # the writer holds it before it answers
    assert other.scenario.error_rate == 0.25
    before = stores[1].round_trips
    await other.control.sync()
    assert stores[1].round_trips == before + 1  # one statement brings the change
    assert (other.scenario.error_rate, other.scenario.latency_ms) == (0.5, LatencyRange(5, 10))
    applied = other.applied
    await other.control.sync()
    assert other.applied == applied  # nothing moved: nothing applied again
    assert stores[1].round_trips == before + 2


async def test_a_bad_change_writes_nothing(replicas: list[Replica]) -> None:
    one, other = replicas
    with pytest.raises(ValueError, match="error_rate"):
        await one.control.put({"drop_rate": 0.5, "error_rate": 2})
    await other.control.sync()
    await one.control.sync()
    assert one.scenario.drop_rate == other.scenario.drop_rate == 0.0


async def test_each_queued_fate_is_taken_once_across_replicas(replicas: list[Replica]) -> None:
    one, other = replicas
    fates = [{"outcome": "error", "error_code": 10001}] * 6 + [{"tenant": "t", "outcome": "finish"}]
    await one.control.put({"next_tasks": fates})
    await other.control.sync()
    taken = await asyncio.gather(*(r.control.take_next_task("u") for r in replicas for _ in range(5)))
    assert sorted(str(f and f.outcome) for f in taken) == ["None"] * 4 + ["error"] * 6
    assert await other.control.take_next_task("t") == TaskFate(Outcome.FINISH, tenant="t")
    await one.control.sync()
    assert one.scenario.next_tasks == other.scenario.next_tasks == []


async def test_resets_are_replayed_on_every_replica(replicas: list[Replica], settings: Settings) -> None:
    one, other = replicas
    await one.control.put({"error_rate": 1.0, "seed": 9})
    await other.control.sync()
    seeded = Scenario.of(settings, {"seed": 9}).rng
    assert [other.scenario.rng.random() for _ in range(3)] == [seeded.random() for _ in range(3)]
    await one.control.reset("tenant-a")
    await one.control.reset(None)
    await other.control.sync()
    assert other.forgotten == one.forgotten == ["tenant-a", None]
    fresh = Scenario.from_settings(settings)
    assert other.scenario.to_dict() == fresh.to_dict()
    assert [other.scenario.rng.random() for _ in range(3)] == [fresh.rng.random() for _ in range(3)]


async def test_a_replica_starting_late_applies_the_current_scenario(
    replicas: list[Replica], stores: list[PostgresStore], settings: Settings
) -> None:
    await replicas[0].control.put({"timings": {"pending_seconds": 4}})
    late = Replica(stores[1], settings)
    await late.control.sync()
    assert late.scenario.timings.pending_seconds == 4
    assert late.applied == 1


async def test_an_unreachable_database_leaves_the_last_scenario_in_place(settings: Settings) -> None:
    away = Replica(PostgresStore("postgresql://postgres@127.0.0.1:1/a2v", timeout=0.5), settings)
    await away.control.sync()  # logged, not raised: the request goes on
    assert away.scenario.error_rate == 0.25
    assert away.applied == 0


class _Quiet:
    """A render queue with nothing to publish (the sweep's other half, ending overdue tasks, is tested)."""

    async def sweep(self, undispatched_after: float) -> int:
        return 0


async def test_a_reset_leaves_the_replicas_queue_sweep_running(
    pg_dsn: str, bucket: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reset used to stop the replica's sweep for good: overdue tasks were then never ended there."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    settings = Settings(
        data_dir=tmp_path,
        store=pg_dsn,
        queue=f"{AMQP_URL}/unused",
        files=f"s3://{bucket}/sweep",
        s3_endpoint_url=s3_endpoint,
        task_deadline_seconds=1.0,
        prewarm=False,
    )
    from a2v_spec import load_spec

    services = build_services(settings, load_spec())
    runner: Any = services.runner
    runner.queue, runner.sweep_seconds = _Quiet(), 0.05
    try:
        await runner.recover()
        await services.reset()
        old = int(time.time()) - 60
        task = make_task(created_at=old, updated_at=old)
        await services.store.insert_task(task)
        deadline = time.monotonic() + 20
        while (found := await services.store.get_task(task.video_id)) is not None and not found.terminal:
            assert time.monotonic() < deadline, "the overdue task was not ended: the sweep has stopped"
            await asyncio.sleep(0.05)
        assert found is not None
        assert (found.status, found.error_code) == (Status.ERROR, ErrorCode.TASK_TIMED_OUT)
    finally:
        await runner.stop()
        await services.store.aclose()
        await services.queue.aclose()
