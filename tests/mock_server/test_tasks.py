"""The task lifecycle with real downloads and renders: success, every audio failure, deadlines, load.

`client` is the embedded server over a socket and the scaled-out mock (replicas and workers behind a
balancer); tests that need a server of their own settings stay embedded.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import av
import httpx
import pytest

from mock_server.config import Settings
from mock_server.runtime.app import create_app
from mock_server.testing import app_client, run_server

from .conftest import TEST_SETTINGS, AudioHost, Generate, wait_for

if TYPE_CHECKING:
    from pathlib import Path

ORDER = {"pending": 0, "in_progressing": 1, "finished": 2, "error": 2}


@pytest.fixture
def client(front_client: httpx.Client) -> httpx.Client:
    return front_client


def _streams(data: bytes, tmp_path: Path, name: str) -> tuple[int, float, bool]:
    path = tmp_path / name
    path.write_bytes(data)
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video))
        return frames, float(container.duration or 0) / av.time_base, bool(container.streams.audio)


@pytest.mark.slow
def test_a_task_runs_to_a_real_video(client: httpx.Client, generate: Generate, tmp_path: Path) -> None:
    video_id = generate("/one.wav")
    seen: list[tuple[str, int]] = []
    while True:
        video = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
        seen.append((video["status"], video["progress"]))
        if video["status"] in ("finished", "error"):
            break
        time.sleep(0.01)
    assert video["status"] == "finished", video
    assert [ORDER[s] for s, _ in seen] == sorted(ORDER[s] for s, _ in seen)
    assert [p for _, p in seen] == sorted(p for _, p in seen)
    assert video["progress"] == 100
    assert abs(video["duration"] - 1.0) <= 0.04
    assert video["url_expires_at"] > time.time()
    mp4 = client.get(video["video_url"])
    assert mp4.status_code == 200
    assert mp4.headers["content-type"] == "video/mp4"
    frames, duration, has_audio = _streams(mp4.content, tmp_path, "v.mp4")
    assert frames == 25
    assert has_audio
    assert abs(duration - 1.0) < 0.1
    mask = client.get(video["mask_video_url"])
    assert mask.status_code == 200
    assert _streams(mask.content, tmp_path, "m.mp4")[0] == 25


@pytest.mark.slow
def test_ten_seconds_of_audio_finishes_quickly_with_growing_progress(
    client: httpx.Client, generate: Generate
) -> None:
    video_id = generate("/ten.wav")
    progress = []
    while True:
        video = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
        progress.append(video["progress"])
        if video["status"] in ("finished", "error"):
            break
        time.sleep(0.01)
    assert video["status"] == "finished", video
    assert progress == sorted(progress)
    assert len(set(progress)) > 2, progress  # progress was seen growing, not only 0 and 100
    # How quickly is a benchmark's job (benchmarks/server.py), not a timed assertion here.


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/status/404", 10001),
        ("/status/410", 10001),
        ("/status/500", 10002),
        ("/status/403", 10002),
        ("/loop", 10002),
        ("/slow", 10002),
        ("/image.wav", 10003),
        ("/empty.wav", 10006),
        ("/short.wav", 10006),
        ("/long.wav", 10004),
        ("/huge-declared", 10005),
        ("/huge-streamed", 10005),
    ],
)
def test_audio_failures_end_the_task_with_the_catalog_code(
    client: httpx.Client, generate: Generate, path: str, code: int
) -> None:
    video = wait_for(client, generate(path))
    assert video["status"] == "error"
    assert video["error"]["code"] == code, video["error"]
    assert "video_url" not in video


@pytest.mark.parametrize(
    ("url", "words"),
    [("http://127.0.0.1:1/a.wav", "ConnectError"), ("http://audio.example/a.wav", "not allowed")],
)
def test_unreachable_hosts_are_10002(client: httpx.Client, url: str, words: str) -> None:
    response = client.post("/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": url})
    video = wait_for(client, response.json()["data"]["video_id"])
    assert video["error"]["code"] == 10002
    assert words in video["error"]["message"]


def test_audio_is_recognised_by_content_not_extension(client: httpx.Client, generate: Generate) -> None:
    assert wait_for(client, generate("/audio-without-extension"))["status"] == "finished"


def test_a_task_past_its_deadline_ends_with_10007(tmp_path: Path, audio_host: AudioHost) -> None:
    """Embedded only: it needs a server of its own with a short deadline."""
    settings = Settings(data_dir=tmp_path, prewarm=False, task_deadline_seconds=0.3, **TEST_SETTINGS)
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    with app_client(create_app(settings), headers={"Authorization": "Bearer d"}) as client:
        response = client.post("/v1/a2v/video.generate", json=body, headers={"Prefer": "duration=30"})
        video = wait_for(client, response.json()["data"]["video_id"], timeout=5)
        assert video["error"]["code"] == 10007


@pytest.mark.slow
@pytest.mark.parametrize("where", ["embedded", pytest.param("scaled", marks=pytest.mark.slow)])
def test_fifty_concurrent_generates_all_finish(
    request: pytest.FixtureRequest, where: str, audio_host: AudioHost, token: str
) -> None:
    """Fifty tasks at once all end finished. The module's 3 s fetch timeout (there to make /slow fail
    fast) is too tight for fifty downloads at once on a loaded machine, so the embedded server gets the
    spec's own; scaled out, each of the two workers downloads one audio at a time."""
    if where == "scaled":
        _fifty_generates(request.getfixturevalue("scaled_server"), audio_host, token)
        return
    settings = {**TEST_SETTINGS, "limits": {**TEST_SETTINGS["limits"], "audio_fetch_timeout_seconds": 30.0}}
    with run_server(**settings) as server:
        _fifty_generates(server.base_url, audio_host, token)


def _fifty_generates(base_url: str, audio_host: AudioHost, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}

    def submit(_: int) -> str:
        response = httpx.post(f"{base_url}/v1/a2v/video.generate", json=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["video_id"])

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(submit, range(50)))
    assert len(set(ids)) == 50
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        videos: list[dict[str, Any]] = [wait_for(client, video_id, timeout=90) for video_id in ids]
        assert [v.get("error") for v in videos if v["status"] != "finished"] == []
        assert (
            client.get("/v1/a2v/video.list", params={"status": "finished"}).headers["X-Total-Count"] == "50"
        )
