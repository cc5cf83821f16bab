"""Scaled out, the callback outbox holds the same line as the embedded sender: an attempt ends within
its total deadline, and one tenant's slow receivers never hold every delivery loop of a replica."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from a2v_spec import Status
from a2v_testkit import FileHost, Reply
from mock_server.config import Settings
from mock_server.scale.outbox import OutboxDeliverer
from mock_server.scale.postgres.store import PostgresStore
from tests.mock_server.scale.conftest import pg_dsn as pg_dsn  # the scaled-out tests' database
from tests.mock_server.scale.test_outbox import _loopback_allowed, _run_until, _views
from tests.mock_server.scale.test_pgstore import make_task
from tests.security.test_tenants import Receiver

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.anyio


@pytest.fixture
def hanging() -> Iterator[Receiver]:
    made = Receiver(None)  # accepts, reads, never answers
    yield made
    made.close()


@pytest.fixture
def trickling() -> Iterator[Receiver]:
    made = Receiver(0.5)  # a header byte every 0.5 s
    yield made
    made.close()


async def _ended(store: PostgresStore, tenant: str, url: str) -> str:
    task = make_task(tenant=tenant, callback_url=url)
    await store.insert_task(task)
    await store.advance(task.video_id, Status.FINISHED)
    return task.video_id


async def test_an_outbox_attempt_is_cut_off_at_its_deadline(pg_dsn: str, trickling: Receiver) -> None:
    store = PostgresStore(pg_dsn)
    settings = Settings(callback_timeout_seconds=2, callback_attempts=1, audio_hosts=["127.0.0.1"])
    try:
        video_id = await _ended(store, "t1", trickling.url)
        deliverer = OutboxDeliverer(settings.callbacks, store, _views(), _loopback_allowed())
        started = time.monotonic()

        async def failed() -> bool:
            return [d["state"] for d in await store.deliveries(video_id=video_id)] == ["failed"]

        await _run_until([deliverer], failed, timeout=10)
        [record] = await store.deliveries(video_id=video_id)
    finally:
        await store.aclose()
    assert record["last_error"] == "AttemptTimedOut"
    assert time.monotonic() - started < 6


async def test_one_tenant_holds_at_most_its_share_of_a_replicas_loops(pg_dsn: str, hanging: Receiver) -> None:
    store = PostgresStore(pg_dsn)
    settings = Settings(callback_timeout_seconds=6, callback_attempts=1, audio_hosts=["127.0.0.1"])
    with FileHost() as host:
        hook = host.route("/hook", Reply(b"", status=204), methods=["POST"])
        try:
            for _ in range(4):
                await _ended(store, "flooder", hanging.url)
            other = await _ended(store, "other", hook)
            deliverer = OutboxDeliverer(settings.callbacks, store, _views(), _loopback_allowed(), loops=2)
            started, took = time.monotonic(), [0.0]

            async def delivered() -> bool:
                took[0] = time.monotonic() - started
                return [d["state"] for d in await store.deliveries(video_id=other)] == ["delivered"]

            await _run_until([deliverer], delivered, timeout=10)
        finally:
            await store.aclose()
    assert took[0] < 3  # not after the flooder's attempts time out
    assert hanging.most == 1  # half the loops: one of two
