"""Callback deliveries from the outbox: two replicas' loops, each delivery posted exactly once; retries
with back-off; a refused host fails without a post."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit import FileHost, Replies
from mock_server.config import Settings
from mock_server.outbox import OutboxDeliverer
from mock_server.pgstore import PostgresStore
from tests.mock_server.scale.test_pgstore import make_task

if TYPE_CHECKING:
    from collections.abc import Iterator
    from urllib.parse import SplitResult

    from mock_server.store import Task


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


def _allowed(url: SplitResult) -> bool:
    return url.hostname == "127.0.0.1"


def _body(task: Task) -> bytes:
    return f'{{"video_id":"{task.video_id}"}}'.encode()


async def _run_until(deliverers: list[OutboxDeliverer], done: Any, timeout: float = 20) -> None:
    for d in deliverers:
        d.start()
    try:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "deliveries did not end"
            await asyncio.sleep(0.05)
    finally:
        for d in deliverers:
            await d.aclose()


def test_two_replicas_deliver_each_callback_once(pg_dsn: str, receiver: Receiver) -> None:
    settings = Settings(callback_backoff_seconds=0.05)
    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    ids = []
    for i in range(40):
        task = make_task(callback_url=receiver.url)
        stores[0].insert_task(task)
        stores[i % 2].advance(task.video_id, "finished" if i % 3 else "error", error=None)
        ids.append(task.video_id)
    deliverers = [OutboxDeliverer(settings, s, _body, _allowed, loops=3, idle_seconds=0.02) for s in stores]
    try:
        asyncio.run(_run_until(deliverers, lambda: len(receiver.posts) >= 40))
        time.sleep(0.3)  # nothing more arrives
    finally:
        for s in stores:
            s.close()
    assert len(receiver.posts) == 40
    assert len({delivery for delivery, _ in receiver.posts}) == 40
    assert sum(d.delivered for d in deliverers) == 40
    assert all(d.delivered > 0 for d in deliverers), "both replicas took part"


def test_a_failing_receiver_gets_retries_with_the_same_delivery_id(pg_dsn: str) -> None:
    receiver = Receiver(fail_first=2)
    store = PostgresStore(pg_dsn)
    try:
        task = make_task(callback_url=receiver.url)
        store.insert_task(task)
        store.advance(task.video_id, "finished")
        deliverer = OutboxDeliverer(Settings(callback_backoff_seconds=0.05), store, _body, _allowed)
        asyncio.run(_run_until([deliverer], lambda: len(receiver.posts) >= 3))
        [record] = store.deliveries(video_id=task.video_id)
    finally:
        store.close()
        receiver.close()
    assert (record["state"], record["attempts"], record["last_status"]) == ("delivered", 3, 204)
    assert len({d for d, _ in receiver.posts}) == 1


def test_a_refused_host_fails_without_a_post(pg_dsn: str, receiver: Receiver) -> None:
    store = PostgresStore(pg_dsn)
    try:
        task = make_task(callback_url=receiver.url.replace("127.0.0.1", "localhost"))
        store.insert_task(task)
        store.advance(task.video_id, "finished")
        deliverer = OutboxDeliverer(Settings(), store, _body, _allowed)
        asyncio.run(_run_until([deliverer], lambda: store.deliveries()[0]["state"] == "failed"))
    finally:
        store.close()
    assert receiver.posts == []
