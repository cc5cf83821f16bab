"""What is wrong with a request, and the refusal the spec demands for it (table-driven)."""

from __future__ import annotations

import pytest

from a2v_spec import load_spec
from contract_tests.proxy.requests import problems
from tests.contract_tests.proxy.conftest import exchange

JSON = {"content-type": "application/json"}
GOOD_BODY = b'{"model_id": "eva_a0008", "audio_url": "https://example.com/a.wav"}'
GEN = {"method": "POST", "path": "/v1/a2v/video.generate"}


@pytest.mark.parametrize(
    ("kwargs", "kinds", "answer"),
    [
        ({}, [], None),
        ({"path": "/v1/a2v/video.list", "query": "page=2&page_size=100&status=finished"}, [], None),
        ({**GEN, "body": GOOD_BODY, "headers": JSON}, [], None),
        ({"token": None}, ["auth"], (401, 1001)),
        ({"path": "/v1/a2v/nope"}, ["route"], (404, 1007)),
        ({"method": "DELETE"}, ["route"], (405, 1006)),
        ({"path": "/v1/a2v/video.list", "query": "page_size=0"}, ["parameter"], (400, 1003)),
        ({"path": "/v1/a2v/video.list", "query": "page_size=many"}, ["parameter"], (400, 1003)),
        ({"path": "/v1/a2v/video.list", "query": "status=done"}, ["parameter"], (400, 1003)),
        ({"path": "/v1/a2v/video.get"}, ["parameter"], (400, 1003)),
        ({"path": "/v1/a2v/video.get", "query": "video_id=a&video_id=b"}, ["parameter"], (400, 1003)),
        ({**GEN, "body": b"{", "headers": JSON}, ["malformed"], (400, 1004)),
        ({**GEN, "body": b"[1]", "headers": JSON}, ["malformed"], (400, 1004)),
        ({**GEN, "body": GOOD_BODY}, ["content_type"], (415, 1005)),
        (
            {**GEN, "body": b'{"model_id": "x"}', "headers": JSON},
            ["parameter"],
            (400, 1003),
        ),
        (
            {**GEN, "body": b"x" * 70_000, "headers": JSON},
            ["size"],
            (413, 1013),
        ),
        (
            {**GEN, "body": GOOD_BODY, "token": None},
            ["auth", "content_type"],
            None,
        ),
        (
            {**GEN, "body": GOOD_BODY,
             "headers": JSON | {"Idempotency-Key": "has space"}},
            ["parameter"],
            (400, 1003),
        ),
        # where the proxy's own copy of the rules once disagreed with the mock's
        ({**GEN, "body": GOOD_BODY, "headers": {"content-type": "application/json; charset=utf-8"}},
         [], None),
        ({**GEN, "body": GOOD_BODY, "headers": {"content-type": "application/vnd.a2v+json"}},
         ["content_type"], (415, 1005)),
        ({"token": None, "headers": {"authorization": "Bearer a b"}}, ["auth"], (401, 1001)),
        ({"token": None, "headers": {"authorization": "  bearer tok"}}, [], None),
        ({**GEN, "body": b"[" * 5000 + b"]" * 5000, "headers": JSON}, ["malformed"], (400, 1004)),
        ({**GEN, "body": GOOD_BODY[:-1] + b', "model_id": "x"}', "headers": JSON},
         ["malformed"], (400, 1004)),
        ({**GEN, "body": GOOD_BODY[:-1] + b', "x": "\\ud800"}', "headers": JSON}, ["parameter"], (400, 1003)),
        ({"path": "/v1/a2v/video.list", "query": "page=5_0"}, ["parameter"], (400, 1003)),
    ],
)  # fmt: skip
def test_problems(kwargs: dict[str, object], kinds: list[str], answer: tuple[int, int] | None) -> None:
    _, found = problems(exchange(**kwargs), load_spec())  # type: ignore[arg-type]
    assert [p.kind for p in found] == kinds
    if answer is not None:
        assert (found[0].status, int(found[0].code)) == answer
