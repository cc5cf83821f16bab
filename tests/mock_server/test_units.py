"""Pure parts: Prefer parsing, scenario, rate limit, journal, store, errors."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode, Status, load_spec
from mock_server.admin.journal import Entry, Journal
from mock_server.api.scenario import Prefer, Scenario, parse_prefer
from mock_server.errors import ApiError, Errors
from mock_server.ratelimit import UNLIMITED, RateLimiter
from mock_server.scenario_values import Outcome, RateLimit, TaskFate
from mock_server.store import Task, new_video_id
from mock_server.store.sqlite import SqliteStore

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Prefer()),
        ("status=503", Prefer(status=503)),
        ("code=1009, status=429", Prefer(status=429, code=1009)),
        (
            "outcome=error; error_code=10003; duration=2.5",
            Prefer(fate=TaskFate(Outcome.ERROR, ErrorCode.AUDIO_NOT_DECODABLE, 2.5)),
        ),
        ("outcome=finished", Prefer(fate=TaskFate(Outcome.FINISH))),
        ("respond-async, wait=5, code=1500", Prefer(code=1500)),
        ('code="1010"', Prefer(code=1010)),
    ],
)
def test_parse_prefer(header: str | None, expected: Prefer) -> None:
    assert parse_prefer(header) == expected


@pytest.mark.parametrize(
    "header", ["status=abc", "duration=-1", "outcome=maybe", "error_code=x", "error_code=4242"]
)
def test_parse_prefer_rejects(header: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_prefer(header)
    assert caught.value.code == 1003


def test_scenario_queue_is_per_tenant_and_seeded() -> None:
    scenario = Scenario()
    scenario.merge({"next_tasks": [{"tenant": "a", "outcome": "error"}, {"outcome": "finish"}], "seed": 3})
    assert scenario.take_next_task("b") == TaskFate(Outcome.FINISH)
    assert scenario.take_next_task("b") is None
    assert scenario.take_next_task("a") == TaskFate(Outcome.ERROR, tenant="a")
    first = [scenario.roll(0.5) for _ in range(20)]
    scenario.merge({"seed": 3})
    assert [scenario.roll(0.5) for _ in range(20)] == first


def test_rate_limiter_windows() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(requests=2, per_seconds=10), clock=lambda: now[0])
    assert [limiter.hit("k").left for _ in range(2)] == [1, 0]
    blocked = limiter.hit("k")
    assert not blocked.allowed
    assert blocked.reset == 10
    assert limiter.hit("other").allowed
    assert limiter.hit("k", cost=0).allowed
    now[0] = 10.0
    assert limiter.hit("k").allowed
    limiter.configure(None)
    assert limiter.hit("k").total == UNLIMITED


def test_journal_ring_buffer() -> None:
    journal = Journal(2)
    for index in range(3):
        journal.add(Entry(time.time(), f"t{index}", "GET", "/v1/ping", "", 200, 0, 1.0))
    assert [e["tenant"] for e in journal.query()] == ["t1", "t2"]
    journal.reset("t1")
    assert [e["tenant"] for e in journal.query()] == ["t2"]
    with pytest.raises(ValueError, match="journal_size"):
        Journal(0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _task(video_id: str, tenant: str = "t", status: Status = Status.PENDING, created: int = 100) -> Task:
    return Task(
        video_id,
        tenant,
        tenant,
        "eva_a0008",
        "http://x/a",
        None,
        status,
        0,
        None,
        None,
        None,
        created,
        created,
    )


@pytest.mark.anyio
async def test_store_moves_tasks_only_forward(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    video_id = new_video_id()
    await store.insert_task(_task(video_id))
    assert await store.advance(video_id, Status.IN_PROGRESSING, progress=30) is not None
    await store.set_progress(video_id, 20)
    assert (await store.get_task(video_id)).progress == 30  # type: ignore[union-attr]
    assert await store.advance(video_id, Status.PENDING) is None
    assert await store.advance(video_id, Status.ERROR, error=(ErrorCode.FILE_NOT_FOUND, "gone")) is not None
    assert await store.advance(video_id, Status.FINISHED) is None
    assert await store.get_task(video_id, "someone else") is None
    await store.aclose()
    reopened = SqliteStore(tmp_path)
    found = await reopened.get_task(video_id)
    assert found is not None
    assert (found.status, found.error_code) == (Status.ERROR, ErrorCode.FILE_NOT_FOUND)
    await reopened.aclose()


@pytest.mark.anyio
async def test_the_signing_secret_survives_a_restart_and_differs_per_data_dir(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "a")
    secret = await first.secret()
    assert len(secret) >= 32
    await first.aclose()
    reopened = SqliteStore(tmp_path / "a")
    assert await reopened.secret() == secret
    other = SqliteStore(tmp_path / "b")
    assert await other.secret() != secret
    await reopened.aclose()
    await other.aclose()


@pytest.mark.anyio
async def test_store_lists_newest_first(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)
    ids = [new_video_id() for _ in range(3)]
    for video_id in ids:
        await store.insert_task(_task(video_id))
    items, total = await store.list_tasks("t", limit=2)
    assert total == 3
    assert [t.video_id for t in items] == ids[::-1][:2]
    assert ids == sorted(ids)
    await store.aclose()


def test_errors_take_status_from_the_catalog() -> None:
    errors = Errors(load_spec().errors)
    assert errors.status(1009) == 429
    assert errors.status(10003) == 500  # a task code has no HTTP status of its own
    with pytest.raises(ValueError, match="catalog"):
        errors.status(4242)
    response = errors.response(ApiError(ErrorCode.VIDEO_NOT_FOUND))
    assert response.status_code == 404
    body: Any = response.body
    assert b'"message":"Video Not Found"' in body
