"""Signed result URLs: expiry, tampering, Range, ETag, content types, absolute URLs.

The tests that only speak HTTP also run against the scaled-out mock (`front_client`: files streamed from
the object store by whichever replica answers); the others read the embedded server's signer.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from mock_server.files import Signer
from mock_server.files.local import LocalFileStore
from mock_server.testing import app_client

from .conftest import AudioHost, Generate, wait_for

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

    from mock_server.testing import RunningServer


@pytest.fixture
def video(client: httpx.Client, generate: Generate) -> dict[str, object]:
    found = wait_for(client, generate("/half.wav"))
    assert found["status"] == "finished"
    return found


@pytest.fixture
def front_video(front_client: httpx.Client, audio_host: AudioHost) -> dict[str, object]:
    """A finished video of the embedded server or of the scaled-out mock (`front_client`'s)."""
    response = front_client.post(
        "/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    )
    assert response.status_code == 200, response.text
    found = wait_for(front_client, response.json()["data"]["video_id"], timeout=60)
    assert found["status"] == "finished"
    return found


def test_signer_round_trip() -> None:
    signer = Signer("k", ttl=60)
    url, expires = signer.url("http://h:1", "/files/videos/a.mp4", now=1000)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("http://h:1/files/videos/a.mp4?")
    assert query["Expires"] == [str(expires)] == ["1060"]
    assert Signer("other", 60).signature("/files/videos/a.mp4", 1060) != query["Signature"][0]


#: Range headers on a 100-byte file and what every file store answers (status, Content-Range).
RANGE_CASES = [
    ("bytes=0-9", 206, "bytes 0-9/100"),
    ("bytes=5-", 206, "bytes 5-99/100"),
    ("bytes=-10", 206, "bytes 90-99/100"),
    ("bytes=90-200", 206, "bytes 90-99/100"),
    ("bytes=100-", 416, "bytes */100"),
    ("bytes=9-3", 400, None),
    ("items=0-1", 400, None),
]


def assert_range_answer(response: httpx.Response, status: int, content_range: str | None) -> None:
    """The answer a file store owes a Range header: its status and Content-Range, refusals in the
    API's envelope with the catalog code of their status."""
    assert response.status_code == status
    assert response.headers.get("content-range") == content_range
    if status >= 400:  # Starlette's plain-text range errors leave in the API's envelope
        assert response.json()["code"] == (1015 if status == 416 else 1003)  # 416 has its own catalog row
        assert "Range" in response.json()["message"]


@pytest.mark.parametrize(("header", "status", "content_range"), RANGE_CASES)
def test_local_file_store_ranges(tmp_path: Path, header: str, status: int, content_range: str | None) -> None:
    store = LocalFileStore(tmp_path / "files")
    (tmp_path / "files" / "videos" / "x.mp4").write_bytes(bytes(range(100)))

    async def serve(request: Any) -> Any:
        return await store.response(request, "videos/x.mp4")

    with app_client(Starlette(routes=[Route("/f", serve)])) as client:
        response = client.get("/f", headers={"Range": header})
    assert_range_answer(response, status, content_range)


def test_range_etag_and_content_type(front_client: httpx.Client, front_video: dict[str, str]) -> None:
    client, video = front_client, front_video
    full = client.get(video["video_url"])
    assert full.status_code == 200
    assert full.headers["content-type"] == "video/mp4"
    assert full.headers["accept-ranges"] == "bytes"
    size = len(full.content)
    part = client.get(video["video_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 0-99/{size}"
    assert part.content == full.content[:100]
    tail = client.get(video["video_url"], headers={"Range": "bytes=-10"})
    assert tail.content == full.content[-10:]
    outside = client.get(video["video_url"], headers={"Range": f"bytes={size}-"})
    assert (outside.status_code, outside.json()["code"]) == (416, 1015)
    assert outside.headers["content-range"] == f"bytes */{size}"
    cached = client.get(video["video_url"], headers={"If-None-Match": full.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""
    stale = client.get(video["video_url"], headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200
    head = client.head(video["mask_video_url"])
    assert head.status_code == 200
    assert int(head.headers["content-length"]) > 0


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


def test_tampered_expired_and_unsigned_urls_are_403(
    client: httpx.Client, video: dict[str, str], server: RunningServer
) -> None:
    url = video["video_url"]
    expires = int(parse_qs(urlsplit(url).query)["Expires"][0])
    path = urlsplit(url).path
    past = int(time.time()) - 5
    cases = [
        _with(url, Expires=str(expires + 1)),
        _with(url, Signature="AAAA"),
        url.replace(".mp4?", ".mask.mp4?"),
        url.split("?")[0],
        _with(url, Expires=str(past), Signature=server.mock.signer.signature(path, past)),
    ]
    for bad in cases:
        response = client.get(bad)
        assert response.status_code == 403, bad
        assert response.json()["data"] is None


def test_urls_are_absolute_for_the_requested_host(
    front_client: httpx.Client, front_video: dict[str, str]
) -> None:
    client, video = front_client, front_video
    behind = client.get(
        "/v1/a2v/video.get", params={"video_id": video["video_id"]}, headers={"Host": "a2v.test:8443"}
    ).json()["data"]
    assert behind["video_url"].startswith("http://a2v.test:8443/files/videos/")
    again = client.get("/v1/a2v/video.get", params={"video_id": video["video_id"]}).json()["data"]
    assert again["url_expires_at"] >= int(time.time()) + 3600 - 2


def test_unknown_files_are_404(client: httpx.Client, server: RunningServer) -> None:
    path = "/files/videos/" + "0" * 32 + ".mp4"
    url, _ = server.mock.signer.url(server.base_url, path)
    response = client.get(url)
    assert response.status_code == 404
    assert response.json()["code"] == 1007


def test_a_start_sweeps_what_a_crashed_run_left_in_staging(tmp_path: Path) -> None:
    """Partial downloads and renders of a crashed run are removed; stored results are not."""
    store = LocalFileStore(tmp_path / "files")
    kept = store.staging("videos/kept.mp4")
    kept.write_bytes(b"result")
    asyncio.run(store.put("videos/kept.mp4", kept))
    for name in ("videos/a.mp4", "audio/b.wav"):
        store.staging(name).write_bytes(b"partial")
    assert asyncio.run(store.sweep_staging()) == 2
    assert list((tmp_path / "tmp").iterdir()) == []
    assert asyncio.run(store.exists("videos/kept.mp4"))
