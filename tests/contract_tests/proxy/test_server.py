"""Judging single answers on made-up exchanges: each server rule under the kit's id, and only when broken."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from a2v_spec import load_spec
from contract_tests.proxy.judge import Judge
from contract_tests.proxy.urls import FileUrls
from contract_tests.requirement_ids import Req
from tests.contract_tests.proxy.conftest import exchange

ERROR = {"message": "no", "data": None}
GEN = {"method": "POST", "path": "/v1/a2v/video.generate", "headers": {"content-type": "application/json"},
       "body": b'{"model_id": "eva_a0008", "audio_url": "https://example.com/a.wav"}'}  # fmt: skip
VIDEO = {"video_id": "0" * 32, "model_id": "eva_a0008", "audio_url": "https://example.com/a.wav",
         "status": "pending", "progress": 0, "created_at": 1, "updated_at": 1}  # fmt: skip


#: The upstream guide's video.list answer: only the fields it documents.
UPSTREAM_LIST = [
    {"video_id": "b" * 32, "status": "in_progressing"},
    {"video_id": "0" * 32, "status": "finished", "video_url": "http://upstream/v.mp4?Expires=1&Signature=x"},
    {"video_id": "a" * 32, "status": "error"},
]


def character_list(preview_url: str) -> dict[str, Any]:
    """A character.list answer whose one character has this preview URL."""
    character = {"model_id": "eva_a0008", "name": "Eva", "display_name": "Eva", "gender": "female"}
    return {"answer": {"code": 0, "message": "ok", "data": [{**character, "preview_url": preview_url}]}}


CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "a good list": (
        {
            "path": "/v1/a2v/video.list",
            "answer": {"code": 0, "message": "ok", "data": []},
            "response_headers": {"x-total-count": "0"},
        },
        [],
    ),
    "the upstream's list (only the documented fields, no total)": (
        {"path": "/v1/a2v/video.list", "answer": {"code": 0, "message": "ok", "data": UPSTREAM_LIST}},
        [],
    ),
    "a list wrapped in a page object": (
        {
            "path": "/v1/a2v/video.list",
            "answer": {
                "code": 0,
                "message": "ok",
                "data": {"items": [], "page": 1, "page_size": 20, "total": 0},
            },
        },
        [Req.LIFECYCLE_LIST],
    ),
    "a list whose X-Total-Count leaves the page another count": (
        {
            "path": "/v1/a2v/video.list",
            "query": "page=2&page_size=2",
            "answer": {"code": 0, "message": "ok", "data": UPSTREAM_LIST[:1]},
            "response_headers": {"x-total-count": "4"},
        },
        [Req.LIFECYCLE_LIST],
    ),
    "a list of more than page_size videos": (
        {
            "path": "/v1/a2v/video.list",
            "query": "page_size=2",
            "answer": {"code": 0, "message": "ok", "data": UPSTREAM_LIST},
        },
        [Req.LIFECYCLE_LIST],
    ),
    "an X-Total-Count that is not a number": (
        {
            "path": "/v1/a2v/video.list",
            "answer": {"code": 0, "message": "ok", "data": []},
            "response_headers": {"x-total-count": "lots"},
        },
        [Req.LIFECYCLE_LIST],
    ),
    "429 with Retry-After": (
        {"status": 429, "answer": {"code": 1009, **ERROR}, "response_headers": {"retry-after": "3"}},
        [],
    ),
    "429 without Retry-After": (
        {"status": 429, "answer": {"code": 1009, **ERROR}},
        [Req.RATELIMIT_HEADERS],
    ),
    "a rate-limit header that is not a number": (
        {
            "path": "/v1/a2v/video.get",
            "query": f"video_id={'0' * 32}",
            "answer": {"code": 0, "message": "ok", "data": VIDEO},
            "response_headers": {"x-ratelimit-left": "many"},
        },
        [Req.RATELIMIT_HEADERS],
    ),
    "text/plain": (
        {
            "status": 404,
            "path": "/v1/a2v/nope",
            "answer": {"code": 1007, **ERROR},
            "response_headers": {"content-type": "text/plain"},
        },
        [Req.FUZZ_CONTENT_TYPE],
    ),
    "unknown model answered with the video code": (
        {**GEN, "status": 404, "answer": {"code": 20002, **ERROR}},
        [Req.ERROR_UNKNOWN_MODEL],
    ),
    "code with the wrong HTTP status": (
        {
            "path": "/v1/a2v/video.get",
            "query": f"video_id={'1' * 32}",
            "status": 404,
            "answer": {"code": 1003, **ERROR},
        },
        [Req.FUZZ_RESPONSE_SCHEMA, Req.ENVELOPE_ERROR_CODE],
    ),
    "a 500": ({"status": 500, "answer": {"code": 1500, **ERROR}}, [Req.FUZZ_NO_SERVER_ERROR]),
    "503 queue full on generate is documented": (
        {**GEN, "status": 503, "answer": {"code": 1010, **ERROR}, "response_headers": {"retry-after": "5"}},
        [],
    ),
    "an undocumented status": ({"status": 418, "answer": {"code": 1003, **ERROR}}, [Req.FUZZ_STATUS_CODE]),
    "a task in error without its error (the upstream's answer)": (
        {
            "path": "/v1/a2v/video.get",
            "query": f"video_id={'0' * 32}",
            "answer": {"code": 0, "message": "ok", "data": {"video_id": "0" * 32, "status": "error"}},
        },
        [],
    ),
    "a task in error with an error of the wrong type": (
        {
            "path": "/v1/a2v/video.get",
            "query": f"video_id={'0' * 32}",
            "answer": {"code": 0, "message": "ok", "data": {**VIDEO, "status": "error", "error": "404"}},
        },
        [Req.LIFECYCLE_SHAPE],
    ),
    "the reference's finished answer (with its status)": (
        {
            "path": "/v1/a2v/video.get",
            "query": f"video_id={'0' * 32}",
            "answer": {"code": 0, "message": "ok", "data": UPSTREAM_LIST[1]},
        },
        [],
    ),
    "an unsigned preview URL": (
        character_list("http://upstream/files/previews/eva.png"),
        [Req.FILE_EXPIRES],
    ),
    "a signed preview URL": (
        character_list("http://upstream/p.png?Expires=1&Signature=x"),
        [],
    ),
    "code as a string": (
        {"answer": {"code": "0", "message": "ok", "data": []}},
        [Req.FUZZ_RESPONSE_SCHEMA],
    ),
    "no token, yet served": (
        {"token": None, "answer": {"code": 0, "message": "ok", "data": []}},
        [Req.AUTH_REQUIRED],
    ),
    "no token, refused with the wrong code": (
        {"token": None, "status": 401, "answer": {"code": 1011, **ERROR}},
        [Req.AUTH_REQUIRED],
    ),
}


@pytest.mark.parametrize(("kwargs", "expected"), CASES.values(), ids=list(CASES))
def test_server_rules(kwargs: dict[str, Any], expected: list[str]) -> None:
    judge = Judge(load_spec(), FileUrls("http://upstream"))
    judge.judge(dataclasses.replace(exchange(**kwargs), seq=1))
    assert [v.requirement for v in judge.violations if v.side == "server"] == expected
