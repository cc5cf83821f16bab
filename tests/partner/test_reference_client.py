"""The reference client (`contract_tests.client`) against the mock, over both partner fixtures.

The same tests run over a real local server (`a2v_server`) and the in-process respx mount
(`a2v_respx`): a partner's client must not be able to tell them apart.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import ErrorCode, Status
from contract_tests.client import A2VClient, AsyncA2VClient, raise_for_envelope
from contract_tests.errors import A2VError, A2VNotFound, A2VRateLimited, A2VTimeout

if TYPE_CHECKING:
    from collections.abc import Iterator

    from contract_tests.models import Video

MP4_MAGIC = b"ftyp"


@pytest.fixture(params=["a2v_server", "a2v_respx"])
def mock(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue(request.param)


@pytest.fixture
def client(mock: Any) -> Iterator[A2VClient]:
    with A2VClient(mock.base_url, mock.token) as client:
        yield client


def test_lists_the_characters(client: A2VClient) -> None:
    characters = client.list_characters()

    assert "eva_a0008" in [c.model_id for c in characters]


def test_generates_waits_and_downloads(mock: Any, client: A2VClient) -> None:
    seen: list[Video] = []

    video_id = client.generate_video("eva_a0008", mock.add_audio())
    video = client.wait_for_video(video_id, timeout=60, poll_interval=0.1, on_progress=seen.append)

    assert video.status == "finished"
    assert video.video_id == video_id
    assert video.video_url is not None
    assert video.video_url.startswith(mock.base_url)
    assert client.download(video.video_url)[4:8] == MP4_MAGIC
    assert video.mask_video_url is not None
    assert client.download(video.mask_video_url)[4:8] == MP4_MAGIC
    progress = [v.progress or 0 for v in seen]
    assert progress == sorted(progress)


@pytest.mark.parametrize(
    "code", [ErrorCode.FILE_NOT_FOUND, ErrorCode.AUDIO_NOT_DECODABLE, ErrorCode.INTERNAL_ERROR]
)
def test_a_failed_task_carries_its_code(mock: Any, client: A2VClient, code: ErrorCode) -> None:
    mock.admin.fail_next_task(code=code)

    video = client.wait_for_video(client.generate_video("eva_a0008", mock.add_audio()), poll_interval=0.1)

    assert video.status == "error"
    assert video.error is not None
    assert video.error.code == code


def test_a_slow_task_times_out_the_wait(mock: Any, client: A2VClient) -> None:
    mock.admin.slow_tasks(60)
    video_id = client.generate_video("eva_a0008", mock.add_audio())

    with pytest.raises(A2VTimeout) as timeout:
        client.wait_for_video(video_id, timeout=0.3, poll_interval=0.1)

    assert timeout.value.last_status == Status.PENDING


def test_a_forced_task_state_is_what_the_client_reads(mock: Any, client: A2VClient) -> None:
    mock.admin.slow_tasks(60)
    video_id = client.generate_video("eva_a0008", mock.add_audio())

    mock.admin.set_task(video_id, Status.ERROR, error_code=ErrorCode.TASK_TIMED_OUT)

    video = client.get_video(video_id)
    assert (video.status, video.error.code if video.error else None) == (
        Status.ERROR,
        ErrorCode.TASK_TIMED_OUT,
    )
    assert [task["video_id"] for task in mock.admin.tasks()] == [video_id]


def test_a_429_is_retried_after_retry_after(mock: Any, client: A2VClient) -> None:
    mock.admin.rate_limit(requests=1, per_seconds=1)

    client.list_characters()
    client.list_characters()  # 429 first, then retried after Retry-After

    statuses = [entry["status"] for entry in mock.admin.journal(path="/v1/a2v/character.list")]
    assert statuses[0] == 200
    assert 429 in statuses
    assert statuses[-1] == 200


def test_a_forced_429_raises_rate_limited(mock: Any, client: A2VClient) -> None:
    mock.admin.force_rate_limit()

    with pytest.raises(A2VRateLimited) as limited:
        raise_for_envelope(client.request("GET", "/v1/a2v/character.list", retries=0))

    assert limited.value.code == ErrorCode.TOO_MANY_REQUESTS
    assert limited.value.retry_after is not None
    assert limited.value.retry_after > 0


def test_an_expired_url_answers_403_until_read_again(mock: Any, client: A2VClient) -> None:
    video_id = client.generate_video("eva_a0008", mock.add_audio())
    client.wait_for_video(video_id, poll_interval=0.1)
    mock.admin.expire_urls()
    stale = client.get_video(video_id)

    with pytest.raises(A2VError) as denied:
        client.download(stale.video_url or "")

    assert denied.value.status_code == 403
    mock.admin.url_ttl(3600)
    assert client.download(client.get_video(video_id).video_url or "")[4:8] == MP4_MAGIC


def test_tenants_do_not_see_each_other(mock: Any, client: A2VClient) -> None:
    video_id = client.generate_video("eva_a0008", mock.add_audio())

    other = client.with_token(mock.new_token())

    with pytest.raises(A2VNotFound) as missing:
        other.get_video(video_id)
    assert missing.value.code == ErrorCode.VIDEO_NOT_FOUND


def test_the_async_client(mock: Any) -> None:
    async def make_two() -> list[str]:
        async with AsyncA2VClient(mock.base_url, mock.token) as client:
            ids = await asyncio.gather(
                client.generate_video("eva_a0008", mock.add_audio()),
                client.generate_video("eva_a0008", mock.add_audio()),
            )
            videos = await asyncio.gather(*[client.wait_for_video(i, poll_interval=0.1) for i in ids])
            return [v.status for v in videos]

    assert asyncio.run(make_two()) == ["finished", "finished"]


def test_a_dropped_connection_is_a_transport_error(mock: Any) -> None:
    mock.admin.scenario(drop_rate=1.0)

    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{mock.base_url}/v1/a2v/character.list", headers=mock.headers)

    mock.admin.scenario(drop_rate=0.0)
    assert httpx.get(f"{mock.base_url}/v1/a2v/character.list", headers=mock.headers).status_code == 200
