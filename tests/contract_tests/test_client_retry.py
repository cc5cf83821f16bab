"""The reference client's generate: always an Idempotency-Key, and sent again with the same key when
the answer may have been lost (502/503/504/429, a dropped connection), bounded, honouring Retry-After.

The same through a real nginx with a replica killed under the generate is in
tests/mock_server/scale/test_failover.py.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import ErrorCode
from contract_tests.client import (
    GENERATE_ATTEMPTS,
    A2VClient,
    AsyncA2VClient,
    generate_retry_delay,
)
from contract_tests.errors import A2VProtocolError, A2VRequestError, A2VServerError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

VIDEO_ID = "7895cd9a63564367b0c7b06e6837b5c6"
NGINX_502 = httpx.Response(
    502,
    content=b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
    headers={"Content-Type": "text/html"},
)


def accepted() -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "message": "success", "data": {"video_id": VIDEO_ID}})


def refused(status: int, code: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": "no", "data": None}, headers=headers)


class Script:
    """A transport answering each request with the next step: a response, or an exception to raise."""

    def __init__(self, steps: list[httpx.Response | Exception]) -> None:
        self.steps: Iterator[httpx.Response | Exception] = iter(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = next(self.steps)
        if isinstance(step, Exception):
            raise step
        return step

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get("Idempotency-Key") for r in self.requests]


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr("contract_tests.client.time.sleep", waited.append)
    return waited


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> A2VClient:
    return A2VClient("http://a2v.test", "key", transport=httpx.MockTransport(handler))


def test_every_generate_carries_its_own_key_unless_told_not_to(sleeps: list[float]) -> None:
    script = Script([accepted(), accepted(), accepted(), accepted()])
    client = client_for(script)
    for _ in range(2):
        client.generate_video("eva", "https://x/a.wav")
    client.generate_video("eva", "https://x/a.wav", idempotency_key="mine")
    client.generate_video("eva", "https://x/a.wav", idempotency_key=False)
    first, second, mine, none = script.keys
    assert first
    assert second
    assert first != second
    assert (mine, none) == ("mine", None)
    assert sleeps == []


def test_a_lost_generate_is_sent_again_with_the_same_key_until_answered(sleeps: list[float]) -> None:
    """nginx's HTML 502 (the replica died under the request), then a dropped connection, then the id."""
    script = Script(
        [
            NGINX_502,
            httpx.RemoteProtocolError("Server disconnected without sending a response."),
            httpx.ReadTimeout("timed out"),
            accepted(),
        ]
    )
    assert client_for(script).generate_video("eva", "https://x/a.wav") == VIDEO_ID
    assert len(script.requests) == 4
    assert len(set(script.keys)) == 1
    assert script.keys[0]
    assert {r.content for r in script.requests} == {script.requests[0].content}
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("answer", "wait"),
    [
        (refused(503, ErrorCode.QUEUE_FULL, {"Retry-After": "3"}), 3.0),
        (refused(429, ErrorCode.TOO_MANY_REQUESTS, {"Retry-After": "2"}), 2.0),
        (httpx.Response(504, content=b"gateway timeout", headers={"Retry-After": "1"}), 1.0),
        (httpx.Response(502, content=b"bad gateway"), 0.5),
    ],
)
def test_retry_after_comes_before_the_back_off(
    sleeps: list[float], answer: httpx.Response, wait: float
) -> None:
    script = Script([answer, accepted()])
    assert client_for(script).generate_video("eva", "https://x/a.wav") == VIDEO_ID
    assert sleeps == [wait]
    assert script.keys[0] == script.keys[1]


def test_attempts_are_bounded(sleeps: list[float]) -> None:
    script = Script([NGINX_502] * GENERATE_ATTEMPTS)
    with pytest.raises(A2VProtocolError, match="not JSON") as caught:
        client_for(script).generate_video("eva", "https://x/a.wav")
    assert caught.value.status_code == 502
    assert len(script.requests) == GENERATE_ATTEMPTS
    dropped = Script([httpx.ConnectError("refused")] * 2)
    with pytest.raises(httpx.ConnectError):
        client_for(dropped).generate_video("eva", "https://x/a.wav", attempts=2)
    assert len(dropped.requests) == 2


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (refused(400, ErrorCode.INVALID_PARAMETER), A2VRequestError),
        (refused(409, ErrorCode.IDEMPOTENCY_CONFLICT), A2VRequestError),
        (refused(500, ErrorCode.INTERNAL_ERROR), A2VServerError),
    ],
)
def test_a_final_answer_is_not_sent_again(
    sleeps: list[float], answer: httpx.Response, error: type[Exception]
) -> None:
    script = Script([answer, accepted()])
    with pytest.raises(error):
        client_for(script).generate_video("eva", "https://x/a.wav")
    assert len(script.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("outcome", "attempt", "expected"),
    [
        (httpx.Response(200), 0, None),
        (httpx.Response(502), 0, 0.5),
        (httpx.Response(502), 2, 2.0),
        (httpx.Response(502), GENERATE_ATTEMPTS - 1, None),
        (httpx.Response(503, headers={"Retry-After": "120"}), 0, 30.0),
        (httpx.Response(503, headers={"Retry-After": "soon"}), 1, 1.0),
        (httpx.Response(500), 0, None),
        (httpx.RemoteProtocolError("gone"), 0, 0.5),
        (httpx.ConnectError("refused"), 1, 1.0),
        (httpx.UnsupportedProtocol("ftp"), 0, None),
        (ValueError("not a transport error"), 0, None),
    ],
)
def test_generate_retry_delay(outcome: Any, attempt: int, expected: float | None) -> None:
    assert generate_retry_delay(outcome, attempt) == expected


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_async_client_sends_again_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr("contract_tests.client.asyncio.sleep", sleep)
    script = Script(
        [httpx.ReadError("connection reset"), httpx.Response(504, content=b"timeout"), accepted()]
    )
    async with AsyncA2VClient("http://a2v.test", "key", transport=httpx.MockTransport(script)) as client:
        assert await client.generate_video("eva", "https://x/a.wav", callback_url="https://cb/x") == VIDEO_ID
    assert waited == [0.5, 1.0]
    assert len(set(script.keys)) == 1
    assert script.keys[0]
    assert json.loads(script.requests[2].content)["callback_url"] == "https://cb/x"
