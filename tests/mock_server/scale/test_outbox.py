"""Callback deliveries from the outbox: two replicas' loops, each delivery posted exactly once; retries
with back-off; a refused host fails without a post; idle loops woken by LISTEN/NOTIFY, not by polling."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from a2v_spec import Status, load_spec
from a2v_testkit import FileHost, Replies
from mock_server.config import Settings
from mock_server.errors import Errors
from mock_server.files import Signer
from mock_server.scale.outbox import OutboxDeliverer
from mock_server.scale.postgres.store import OUTBOX_LISTENER, PostgresStore
from mock_server.tasks.egress import HostPolicy
from mock_server.tasks.video_objects import VideoViews
from tests.mock_server.scale.test_pgstore import make_task

if TYPE_CHECKING:
    from collections.abc import Iterator


pytestmark = pytest.mark.anyio


class Receiver:
    """A callback receiver on the toolkit's FileHost; answers 500 to the first `fail_first` posts."""

    def __init__(self, fail_first: int = 0) -> None:
        self.host = FileHost().start()
        self.url = self.host.route("/cb", Replies([500] * fail_first, then=204), methods=["POST"])

    @property
    def posts(self) -> list[tuple[str, str]]:
        return [
            (r.headers["x-a2v-delivery"], r.headers["x-a2v-event"]) for r in self.host.requests("/cb", "POST")
        ]

    def close(self) -> None:
        self.host.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _views() -> VideoViews:
    return VideoViews(Signer("secret", 60), Errors(load_spec().errors))


async def _until(done: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not (await done() if inspect.iscoroutinefunction(done) else done()):
        assert time.monotonic() < deadline, f"{what} after {timeout} s"
        await asyncio.sleep(0.05)


async def _run_until(deliverers: list[OutboxDeliverer], done: Any, timeout: float = 20) -> None:
    for d in deliverers:
        await d.resume()
    try:
        await _until(done, "deliveries did not end", timeout)
    finally:
        for d in deliverers:
            await d.aclose()


def _loopback_allowed() -> HostPolicy:
    """Keyed mode with the test's receiver host listed, as `--callback-hosts 127.0.0.1` gives."""
    return HostPolicy.build(open_mode=False, allowed=["127.0.0.1"], listen_host="127.0.0.1", port=0)


async def test_two_replicas_deliver_each_callback_once(pg_dsn: str, receiver: Receiver) -> None:
    settings = Settings(callback_backoff_seconds=0.05, audio_hosts=["127.0.0.1"])
    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    for i in range(40):
        task = make_task(callback_url=receiver.url)
        await stores[0].insert_task(task)
        ended = Status.FINISHED if i % 3 else Status.ERROR
        await stores[i % 2].advance(task.video_id, ended, error=None)
    views = _views()
    deliverers = [OutboxDeliverer(settings.callbacks, s, views, _loopback_allowed(), loops=3) for s in stores]
    try:
        await _run_until(deliverers, lambda: len(receiver.posts) >= 40)
        await asyncio.sleep(0.3)  # nothing more arrives
    finally:
        for s in stores:
            await s.aclose()
    assert len(receiver.posts) == 40
    assert len({delivery for delivery, _ in receiver.posts}) == 40
    assert sum(d.delivered for d in deliverers) == 40
    assert all(d.delivered > 0 for d in deliverers), "both replicas took part"


async def test_a_failing_receiver_gets_retries_with_the_same_delivery_id(pg_dsn: str) -> None:
    receiver = Receiver(fail_first=2)
    store = PostgresStore(pg_dsn)
    try:
        task = make_task(callback_url=receiver.url)
        await store.insert_task(task)
        await store.advance(task.video_id, Status.FINISHED)
        # No poll within the test's patience: each retry is made when its back-off ends.
        settings = Settings(
            callback_backoff_seconds=0.05, audio_hosts=["127.0.0.1"], outbox_poll_seconds=60.0
        )
        deliverer = OutboxDeliverer(settings.callbacks, store, _views(), _loopback_allowed())
        await _run_until([deliverer], lambda: len(receiver.posts) >= 3)
        [record] = await store.deliveries(video_id=task.video_id)
    finally:
        await store.aclose()
        receiver.close()
    assert (record["state"], record["attempts"], record["last_status"]) == ("delivered", 3, 204)
    assert len({d for d, _ in receiver.posts}) == 1


async def test_a_refused_host_fails_without_a_post(pg_dsn: str, receiver: Receiver) -> None:
    store = PostgresStore(pg_dsn)
    try:
        task = make_task(callback_url=receiver.url)
        await store.insert_task(task)
        await store.advance(task.video_id, Status.FINISHED)
        # Keyed mode with no callback_hosts listed: a loopback receiver is refused before connecting.
        keyed = HostPolicy.build(open_mode=False, allowed=None, listen_host="127.0.0.1", port=0)
        deliverer = OutboxDeliverer(Settings().callbacks, store, _views(), keyed)
        states: list[str] = []

        async def failed() -> bool:
            states[:] = [d["state"] for d in await store.deliveries()]
            return states == ["failed"]

        await _run_until([deliverer], failed)
    finally:
        await store.aclose()
    assert receiver.posts == []


#: Idle loops look at the outbox once a minute: a delivery in the tests' 30 s comes from a notice.
QUIET = Settings(audio_hosts=["127.0.0.1"], outbox_poll_seconds=60.0)


async def _end_task_with_callback(store: PostgresStore, url: str) -> str:
    task = make_task(callback_url=url)
    await store.insert_task(task)
    await store.advance(task.video_id, Status.FINISHED)  # the outbox row, announced as it commits
    return task.video_id


async def _asleep_and_listening(deliverer: OutboxDeliverer, other_than: int | None = None) -> int:
    """Wait until the deliverer listens (on a connection other than `other_than`) and every loop sleeps."""

    def ready() -> bool:
        pid = deliverer.listener_pid
        return pid is not None and pid != other_than and deliverer.sleeping()

    await _until(ready, "the deliverer is not listening with its loops asleep")
    assert deliverer.listener_pid is not None
    return deliverer.listener_pid


async def test_a_delivery_wakes_sleeping_replicas_at_once(pg_dsn: str, receiver: Receiver) -> None:
    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    deliverers = [OutboxDeliverer(QUIET.callbacks, s, _views(), _loopback_allowed()) for s in stores]
    try:
        for d in deliverers:
            await d.resume()
            await _asleep_and_listening(d)
        # Written by a third process's store, as a worker ending the task writes it.
        writer = PostgresStore(pg_dsn, migrate_schema=False)
        try:
            await _end_task_with_callback(writer, receiver.url)
        finally:
            await writer.aclose()
        await _until(lambda: len(receiver.posts) == 1, "the delivery did not go out", timeout=30)
        await _until(lambda: all(d.sleeping() for d in deliverers), "the loops did not sleep again")
    finally:
        for d in deliverers:
            await d.aclose()
        for s in stores:
            await s.aclose()
    assert [d.notices for d in deliverers] == [1, 1]  # both heard it; one posted it
    assert sum(d.delivered for d in deliverers) == 1
    assert len(receiver.posts) == 1


async def test_deliveries_go_out_after_the_listening_connection_is_terminated(
    pg_dsn: str, receiver: Receiver
) -> None:
    store = PostgresStore(pg_dsn)
    deliverer = OutboxDeliverer(QUIET.callbacks, store, _views(), _loopback_allowed())
    try:
        await deliverer.resume()
        first = await _asleep_and_listening(deliverer)
        async with await psycopg.AsyncConnection.connect(pg_dsn, autocommit=True) as admin:
            cursor = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE pid = %s AND application_name = %s",
                (first, OUTBOX_LISTENER),
            )
            assert await cursor.fetchall() == [(True,)]
        # Written while the listener is down or coming back: found by the look made once it listens.
        await _end_task_with_callback(store, receiver.url)
        await _until(lambda: len(receiver.posts) == 1, "the delivery missed while down did not go out", 30)
        await _asleep_and_listening(deliverer, other_than=first)
        await _end_task_with_callback(store, receiver.url)  # announced on the new connection
        await _until(lambda: len(receiver.posts) == 2, "the delivery after reconnecting did not go out", 30)
    finally:
        await deliverer.aclose()
        await store.aclose()
    assert deliverer.delivered == 2
    assert len({delivery for delivery, _ in receiver.posts}) == 2
