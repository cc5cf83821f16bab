"""The reference client: envelopes, catalog-backed errors, polling with back-off and Retry-After."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import httpx
import pytest

from a2v_spec import ErrorCode, Spec, Status, load_spec
from contract_tests.client import A2VClient, AsyncA2VClient, Polling
from contract_tests.errors import (
    A2VAuthError,
    A2VError,
    A2VNotFound,
    A2VProtocolError,
    A2VRateLimited,
    A2VRequestError,
    A2VServerError,
    A2VTimeout,
    A2VUnavailable,
)
from contract_tests.models import Video

VIDEO_ID = "7895cd9a63564367b0c7b06e6837b5c6"


def envelope(
    status: int, code: int, data: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    message = "success" if code == 0 else f"error {code}"
    return httpx.Response(status, json={"code": code, "message": message, "data": data}, headers=headers)


def client_for(handler: Any) -> A2VClient:
    return A2VClient("http://a2v.test", "key", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "code", "error_class"),
    [
        (401, ErrorCode.UNAUTHORIZED, A2VAuthError),
        (401, ErrorCode.TOKEN_EXPIRED, A2VAuthError),
        (400, ErrorCode.INVALID_PARAMETER, A2VRequestError),
        (409, ErrorCode.IDEMPOTENCY_CONFLICT, A2VRequestError),
        (404, ErrorCode.MODEL_NOT_FOUND, A2VNotFound),
        (404, ErrorCode.VIDEO_NOT_FOUND, A2VNotFound),
        (429, ErrorCode.TOO_MANY_REQUESTS, A2VRateLimited),
        (503, ErrorCode.QUEUE_FULL, A2VUnavailable),
        (500, ErrorCode.INTERNAL_ERROR, A2VServerError),
        (418, 4242, A2VRequestError),  # not in the catalog: the HTTP status decides
    ],
)
def test_errors_are_classified_from_the_catalog(
    status: int, code: int, error_class: type[A2VError], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("contract_tests.client.time.sleep", lambda seconds: None)
    client = client_for(lambda request: envelope(status, code))
    with pytest.raises(error_class) as caught:
        client.list_videos()
    assert caught.value.code == code
    assert caught.value.status_code == status
    assert caught.value.request is not None
    assert str(code) in str(caught.value)


@pytest.mark.parametrize("body", [b"<html>oops</html>", b'{"code": "0", "message": "x", "data": null}'])
def test_answers_that_are_not_envelopes_raise_protocol_errors(body: bytes) -> None:
    client = client_for(lambda request: httpx.Response(200, content=body))
    with pytest.raises(A2VProtocolError):
        client.list_characters()


def test_generate_sends_body_and_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope(200, 0, {"video_id": VIDEO_ID})

    client = client_for(handler)
    video_id = client.generate_video(
        "eva", "https://x/a.wav", callback_url="https://cb/x", idempotency_key="k1"
    )
    assert video_id == VIDEO_ID
    assert json.loads(seen[0].content) == {
        "model_id": "eva",
        "audio_url": "https://x/a.wav",
        "callback_url": "https://cb/x",
    }
    assert seen[0].headers["Idempotency-Key"] == "k1"
    assert seen[0].headers["Authorization"] == "Bearer key"


def _listing(data: Any, headers: dict[str, str] | None = None) -> tuple[A2VClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope(200, 0, data, headers)

    return client_for(handler), seen


#: The upstream guide's video.list answer: a plain array, the documented fields only.
UPSTREAM_LIST = [
    {"video_id": VIDEO_ID, "status": "in_progressing"},
    {"video_id": "0" * 32, "status": "finished", "video_url": "https://cdn.test/v.mp4"},
    {"video_id": "a" * 32, "status": "error"},
]


def test_list_videos_reads_the_plain_array_and_pages_by_the_query() -> None:
    client, seen = _listing(UPSTREAM_LIST)
    page = client.list_videos(page=2, page_size=3, status=Status.FINISHED)
    assert [(v.video_id, v.status) for v in page.items] == [
        (VIDEO_ID, Status.IN_PROGRESSING),
        ("0" * 32, Status.FINISHED),
        ("a" * 32, Status.ERROR),
    ]
    assert (page.page, page.page_size, page.total) == (2, 3, None)  # no X-Total-Count: no total
    assert page.items[1].video_url == "https://cdn.test/v.mp4"
    assert page.items[0].progress is None
    assert page.items[2].error is None
    assert dict(seen[0].url.params) == {"page": "2", "page_size": "3", "status": "finished"}


@pytest.mark.parametrize("is_async", [False, True])
def test_list_videos_takes_the_total_from_x_total_count(is_async: bool) -> None:
    if is_async:

        async def handler(request: httpx.Request) -> httpx.Response:
            return envelope(200, 0, UPSTREAM_LIST, {"X-Total-Count": "42"})

        async def listed() -> Any:
            transport = httpx.MockTransport(handler)
            async with AsyncA2VClient("http://a2v.test", "key", transport=transport) as client:
                return await client.list_videos()

        page = asyncio.run(listed())
    else:
        page = _listing(UPSTREAM_LIST, {"X-Total-Count": "42"})[0].list_videos()
    assert (len(page.items), page.total) == (3, 42)


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ({"items": [], "page": 1, "page_size": 20, "total": 0}, None),  # not the documented array
        (UPSTREAM_LIST, {"X-Total-Count": "many"}),
        ([{"video_id": VIDEO_ID}], None),  # no status
    ],
)
def test_list_videos_refuses_what_it_cannot_read(data: Any, headers: dict[str, str] | None) -> None:
    client, _ = _listing(data, headers)
    with pytest.raises(A2VProtocolError):
        client.list_videos()


def test_wait_for_video_backs_off_and_honours_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("contract_tests.client.time.sleep", sleeps.append)
    answers = iter(
        [
            envelope(200, 0, {"video_id": VIDEO_ID, "status": "pending", "progress": 0}),
            envelope(429, ErrorCode.TOO_MANY_REQUESTS, headers={"Retry-After": "0"}),  # retried in request()
            envelope(429, ErrorCode.TOO_MANY_REQUESTS, headers={"Retry-After": "0"}),
            # retries exhausted: wait_for_video waits the 7 s
            envelope(429, ErrorCode.TOO_MANY_REQUESTS, headers={"Retry-After": "7"}),
            envelope(200, 0, {"video_id": VIDEO_ID, "status": "in_progressing", "progress": 40}),
            envelope(200, 0, {"video_id": VIDEO_ID, "status": "finished", "progress": 100, "video_url": "u"}),
        ]
    )
    seen: list[int | None] = []
    client = client_for(lambda request: next(answers))
    video = client.wait_for_video(
        VIDEO_ID, poll_interval=1, max_interval=5, on_progress=lambda v: seen.append(v.progress)
    )
    assert video.status is Status.FINISHED
    assert seen == [0, 40, 100]
    assert sleeps == [1, 0.0, 0.0, 7.0, 1.5]


def test_wait_for_video_times_out_naming_the_last_status(monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_for(lambda request: envelope(200, 0, {"video_id": VIDEO_ID, "status": "in_progressing"}))
    with pytest.raises(A2VTimeout) as caught:
        client.wait_for_video(VIDEO_ID, timeout=0.05, poll_interval=0.01)
    assert caught.value.last_status is Status.IN_PROGRESSING
    assert "in_progressing" in str(caught.value)


def test_download_sends_range_and_no_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(206, content=b"abc")

    assert client_for(handler).download("http://files.test/v.mp4?Signature=x", range="bytes=0-2") == b"abc"
    assert seen[0].headers["Range"] == "bytes=0-2"
    assert "Authorization" not in seen[0].headers


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_async_client_has_the_same_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("video.generate"):
            return envelope(200, 0, {"video_id": VIDEO_ID})
        if request.url.path.endswith("character.list"):
            return envelope(200, 0, [{"model_id": "eva", "name": "E", "display_name": "E", "gender": "female",
                                      "preview_url": "u"}])  # fmt: skip
        return envelope(
            200, 0, {"video_id": VIDEO_ID, "status": "error", "error": {"code": 10001, "message": "x"}}
        )  # the wire format: a bare number, read back as a catalog name

    async with AsyncA2VClient("http://a2v.test", "key", transport=httpx.MockTransport(handler)) as client:
        assert [c.model_id for c in await client.list_characters()] == ["eva"]
        video_id = await client.generate_video("eva", "https://x/a.wav")
        video = await client.wait_for_video(video_id, poll_interval=0.01)
        assert video.status is Status.ERROR
        assert video.error is not None
        assert video.error.code is ErrorCode.FILE_NOT_FOUND


def test_paths_come_from_the_spec() -> None:
    """Move getVideo in a copy of the spec: the client follows it (nothing hard-coded)."""
    document = copy.deepcopy(load_spec().document)
    document["paths"]["/v2/videos/get"] = document["paths"].pop("/v1/a2v/video.get")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return envelope(200, 0, {"video_id": VIDEO_ID, "status": "pending"})

    client = A2VClient("http://a2v.test", "key", transport=httpx.MockTransport(handler), spec=Spec(document))
    assert client.get_video(VIDEO_ID).status is Status.PENDING
    assert seen == ["/v2/videos/get"]


def test_a_status_outside_the_spec_is_a_protocol_error() -> None:
    client = client_for(lambda request: envelope(200, 0, {"video_id": VIDEO_ID, "status": "done"}))
    with pytest.raises(A2VProtocolError, match="status 'done' is not one of"):
        client.get_video(VIDEO_ID)


def test_polling_backs_off_and_stops_at_a_terminal_status() -> None:
    """The polling decision alone, on a fake clock: what both clients sleep between reads."""
    now = [0.0]
    polling = Polling(VIDEO_ID, timeout=10, interval=1, max_interval=2, clock=lambda: now[0])
    video = {"video_id": VIDEO_ID}
    waits = [polling.after(Video.from_dict({**video, "status": status})) for status in ("pending",) * 3]
    busy = A2VRateLimited("slow down", retry_after=4.0)
    assert [*waits, polling.after(busy)] == [1, 1.5, 2, 4.0]
    assert polling.after(Video.from_dict({**video, "status": "finished"})) is None
    assert polling.result.status is Status.FINISHED
    now[0] = 11.0
    with pytest.raises(A2VTimeout):
        polling.after(Video.from_dict({**video, "status": "pending"}))


def test_a_known_code_comes_back_by_name() -> None:
    client = client_for(lambda request: envelope(404, 20002))
    with pytest.raises(A2VNotFound) as caught:
        client.get_video(VIDEO_ID)
    assert caught.value.code is ErrorCode.VIDEO_NOT_FOUND
