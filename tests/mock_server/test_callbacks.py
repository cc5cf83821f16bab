"""Signed callbacks to a local receiver: signature, headers, body, retries, the admin record.

`client` is the embedded server over a socket and the scaled-out mock (callbacks from the replicas'
outbox); the restart test stays embedded (it rewrites the SQLite store of a stopped server).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit import FileHost, Replies
from mock_server.tasks.callbacks import sign

from .conftest import Generate, is_scaled, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx


@pytest.fixture
def client(front_client: httpx.Client) -> httpx.Client:
    return front_client


class Receiver:
    """Answers each delivery with the next status of `answers` (then 200) and records it."""

    def __init__(self, host: FileHost) -> None:
        self.host = host
        self.answers = []

    @property
    def answers(self) -> list[int]:
        return self._answers

    @answers.setter
    def answers(self, statuses: list[int]) -> None:
        self._answers = statuses
        self.url = self.host.route("/hook", Replies(statuses), methods=["POST"])

    @property
    def received(self) -> list[tuple[dict[str, str], bytes]]:
        return [(r.headers, r.body) for r in self.host.requests("/hook")]

    def wait(self, count: int, timeout: float = 10) -> None:
        self.host.wait_for(count, "/hook", timeout=timeout)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with FileHost() as host:
        yield Receiver(host)


def test_sign_matches_the_spec_formula() -> None:
    expected = hmac.new(b"tok", b"17.{}", hashlib.sha256).hexdigest()
    assert sign("tok", b"{}", 17) == f"t=17,v1={expected}"


def test_finished_task_is_delivered_signed(
    client: httpx.Client, generate: Generate, receiver: Receiver, token: str
) -> None:
    video_id = generate("/half.wav", callback_url=receiver.url)
    video = wait_for(client, video_id)
    receiver.wait(1)
    headers, body = receiver.received[0]
    stamp, digest = headers["x-a2v-signature"].split(",")
    assert abs(int(stamp[2:]) - time.time()) < 60
    expected = hmac.new(token.encode(), f"{stamp[2:]}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest[3:], expected)
    assert headers["x-a2v-event"] == "video.finished"
    assert headers["content-type"] == "application/json"
    sent = json.loads(body)
    assert sent["code"] == 0
    assert sent["data"]["video_id"] == video_id
    assert sent["data"]["status"] == video["status"] == "finished"
    assert sent["data"]["callback_url"] == receiver.url
    assert client.get(sent["data"]["video_url"]).status_code == 200


def _record(client: httpx.Client, video_id: str, state: str, timeout: float = 10) -> dict[str, Any]:
    """The task's delivery record once it is in `state` (the admin API's view, on any replica)."""
    deadline = time.monotonic() + timeout
    while True:
        records = client.get("/__admin/callbacks", params={"video_id": video_id}).json()["data"]
        if records and records[0]["state"] == state:
            return dict(records[0])
        assert time.monotonic() < deadline, records
        time.sleep(0.02)


def test_failed_deliveries_are_retried_with_the_same_delivery_id(
    client: httpx.Client, generate: Generate, receiver: Receiver
) -> None:
    receiver.answers = [500, 503]
    video_id = generate("/status/404", callback_url=receiver.url)
    assert wait_for(client, video_id)["error"]["code"] == 10001
    receiver.wait(3)
    ids = {headers["x-a2v-delivery"] for headers, _ in receiver.received}
    assert len(ids) == 1
    assert {headers["x-a2v-event"] for headers, _ in receiver.received} == {"video.error"}
    record = _record(client, video_id, "delivered")
    assert record["attempts"] == 3
    assert record["last_status"] == 200
    assert record["url"] == receiver.url


def test_a_receiver_that_never_accepts_gets_five_attempts(
    request: pytest.FixtureRequest, client: httpx.Client, generate: Generate, receiver: Receiver
) -> None:
    receiver.answers = [500] * 10
    video_id = generate("/status/404", callback_url=receiver.url)
    receiver.wait(5)
    # `failed` is final: it is written with the fifth attempt's answer, and no process (the embedded
    # sender, or any replica reading the outbox) makes an attempt on a failed record.
    record = _record(client, video_id, "failed")
    assert record["attempts"] == 5
    if not is_scaled(request):  # embedded, the delivery's job is also seen to end by itself
        server = request.getfixturevalue("server")
        deadline = time.monotonic() + 10
        while not server.mock.callbacks.idle():
            assert time.monotonic() < deadline, "the delivery is still retrying after its fifth attempt"
            time.sleep(0.02)
    assert len(receiver.received) == 5


def test_unfinished_deliveries_resume_after_a_restart(tmp_path: Any, receiver: Receiver) -> None:
    """Embedded only: it writes a stopped server's SQLite store (scaled out there is nothing to resume:
    any replica delivers due outbox rows, tests/mock_server/scale/test_outbox.py)."""
    from a2v_spec import ErrorCode, Status
    from mock_server.store import Task
    from mock_server.store.sqlite import SqliteStore
    from mock_server.testing import run_server

    from .conftest import TEST_SETTINGS

    store = SqliteStore(tmp_path)
    now = int(time.time())
    task = Task(
        "a" * 32,
        "t",
        "tok",
        "eva_a0008",
        "http://x/a",
        receiver.url,
        Status.ERROR,
        5,
        ErrorCode.FILE_NOT_FOUND,
        "gone",
        None,
        now,
        now,
    )
    asyncio.run(store.insert_task(task))
    record = {
        "delivery_id": "d" * 32, "video_id": task.video_id, "tenant": "t", "url": receiver.url,
        "event": "video.error", "attempts": 2, "last_status": 500, "last_error": None, "state": "retrying",
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    asyncio.run(store.save_delivery(record))
    asyncio.run(store.aclose())
    with run_server(**TEST_SETTINGS, data_dir=tmp_path, prewarm=False) as server:
        receiver.wait(1)
        headers, body = receiver.received[0]
        assert headers["x-a2v-delivery"] == "d" * 32
        assert json.loads(body)["data"]["error"]["code"] == 10001
        deadline = time.monotonic() + 5
        while (found := asyncio.run(server.mock.store.deliveries())[0])["state"] != "delivered":
            assert time.monotonic() < deadline, found
            time.sleep(0.02)
        assert found["attempts"] == 3
