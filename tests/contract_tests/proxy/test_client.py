"""The client rules on made-up sequences of exchanges (no sockets): each fires when broken, and only then."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import load_spec
from contract_tests.proxy.judge import Judge
from contract_tests.proxy.urls import FileUrls
from contract_tests.requirement_ids import Req
from tests.contract_tests.proxy.conftest import exchange

if TYPE_CHECKING:
    from contract_tests.proxy.exchange import Exchange

VID = "0" * 32
GENERATE_BODY = b'{"model_id": "eva_a0008", "audio_url": "https://example.com/a.wav"}'


def poll(at: float, status: str = "pending", **kwargs: Any) -> Exchange:
    data = {
        "video_id": VID,
        "model_id": "eva_a0008",
        "status": status,
        "progress": 0 if status == "pending" else 50,
    }
    answer = {"code": 0, "message": "success", "data": data}
    return exchange(path="/v1/a2v/video.get", query=f"video_id={VID}", answer=answer, at=at, **kwargs)


def listing(at: float, **kwargs: Any) -> Exchange:
    answer = {"code": 0, "message": "success", "data": []}
    return exchange(answer=answer, at=at, **kwargs)


def refused(at: float, status: int, code: int, retry_after: str) -> Exchange:
    answer = {"code": code, "message": "wait", "data": None}
    return exchange(status=status, answer=answer, at=at, response_headers={"retry-after": retry_after})


def generate(at: float, key: str | None = None, gave_up: bool = False) -> Exchange:
    headers = {"content-type": "application/json", **({"Idempotency-Key": key} if key else {})}
    answer = {"code": 0, "message": "success", "data": {"video_id": VID}}
    made = exchange(
        "POST", "/v1/a2v/video.generate", body=GENERATE_BODY, headers=headers, answer=answer, at=at
    )
    return dataclasses.replace(made, client_gave_up=gave_up)


def left_zero(at: float) -> Exchange:
    answer = {"code": 0, "message": "success", "data": []}
    return exchange(
        answer=answer, at=at, response_headers={"x-ratelimit-left": "0", "x-ratelimit-reset": "10"}
    )


CASES = {
    "polls a second apart, backing off": ([poll(0), poll(1.0), poll(2.5), poll(4.75), poll(8.2)], []),
    "a fast second poll": ([poll(0), poll(0.3)], [Req.CLIENT_POLL_INTERVAL]),
    "fast polls of a finished task are no polling": ([poll(0, "finished"), poll(0.1, "finished")], []),
    "five polls at a steady 2 s": ([poll(2.0 * i) for i in range(5)], [Req.CLIENT_POLL_BACKOFF]),
    "a steady 10 s is the cap": ([poll(10.0 * i) for i in range(6)], []),
    "429 then a request before Retry-After": (
        [refused(0, 429, 1009, "2"), listing(1.0)],
        [Req.CLIENT_RETRY_AFTER],
    ),
    "429 then a request after Retry-After": ([refused(0, 429, 1009, "2"), listing(2.1)], []),
    "X-Ratelimit-Left 0 then a request": ([left_zero(0), listing(1.0)], [Req.CLIENT_RATELIMIT_LEFT]),
    "X-Ratelimit-Left 0 then ping": (
        [
            left_zero(0),
            exchange(path="/v1/ping", token=None, answer={"code": 0, "message": "ok", "data": {}}, at=1),
        ],
        [],
    ),
    "generate retried without a key": (
        [generate(0, gave_up=True), generate(1)],
        [Req.CLIENT_IDEMPOTENT_RETRY],
    ),
    "generate retried with its key": ([generate(0, "k1", gave_up=True), generate(1, "k1")], []),
    "generate retried with another key": (
        [generate(0, "k1", gave_up=True), generate(1, "k2")],
        [Req.CLIENT_IDEMPOTENT_RETRY],
    ),
    "token in the query": ([listing(0, query="api_key=abc")], [Req.CLIENT_TOKEN_IN_QUERY]),
    "the bearer token as a query value": ([listing(0, query="x=tok")], [Req.CLIENT_TOKEN_IN_QUERY]),
}


@pytest.mark.parametrize(("sequence", "expected"), CASES.values(), ids=list(CASES))
def test_client_rules(sequence: list[Exchange], expected: list[str]) -> None:
    judge = Judge(load_spec(), FileUrls("http://upstream"))
    for seq, item in enumerate(sequence, 1):
        judge.judge(dataclasses.replace(item, seq=seq))
    assert [v.requirement for v in judge.violations if v.side == "client"] == expected
