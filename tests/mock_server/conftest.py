"""Fixtures for the mock server's tests: audio made in code, a local audio host, running mocks."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mock_server.testing import RunningServer, run_server
from reference_renderer.testing import speech_wav

TERMINAL = ("finished", "error")


def make_wav(seconds: float, rate: int = 16000) -> bytes:
    return speech_wav(seconds, rate)


class AudioHost:
    """A tiny HTTP server on 127.0.0.1 serving audio fixtures and misbehaving on purpose."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {
            "/one.wav": make_wav(1.0),
            "/half.wav": make_wav(0.5),
            "/ten.wav": make_wav(10.0),
            "/short.wav": make_wav(0.1),
            "/long.wav": make_wav(12.5),
            "/audio-without-extension": make_wav(0.6),
            "/image.wav": b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
            "/empty.wav": b"",
        }
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                host.requests.append(self.path)
                path = self.path.split("?")[0]
                if path in host.files:
                    body = host.files[path]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif path.startswith("/status/"):
                    self.send_response(int(path.rsplit("/", 1)[1]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/loop":
                    self.send_response(302)
                    self.send_header("Location", "/loop")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path == "/huge-declared":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                elif path == "/huge-streamed":
                    self.send_response(200)
                    self.end_headers()  # no Content-Length: HTTP/1.0 body until close
                    for _ in range(64):
                        self.wfile.write(b"\0" * 65536)
                elif path == "/slow":
                    time.sleep(3)
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # 50 tasks fetch at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def __enter__(self) -> AudioHost:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def audio_host() -> Iterator[AudioHost]:
    with AudioHost() as host:
        yield host


#: Settings every test server shares: strict (test mode), fetching only from loopback.
TEST_SETTINGS: dict[str, Any] = {
    "test_mode": True,
    "audio_hosts": ["127.0.0.1", "localhost"],
    "render_workers": 2,
    "callback_backoff_seconds": 0.05,
    "limits": {"audio_fetch_timeout_seconds": 1.0, "max_audio_bytes": 1_000_000, "max_audio_seconds": 12.0},
}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """One real uvicorn mock per test module; tests isolate themselves with their own token."""
    with run_server(**TEST_SETTINGS) as running:
        yield running
        assert running.mock.violations == [], "responses that did not match the spec"


@pytest.fixture
def token() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def client(server: RunningServer, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as c:
        yield c


def wait_for(
    client: httpx.Client, video_id: str, statuses: tuple[str, ...] = TERMINAL, timeout: float = 30
) -> dict[str, Any]:
    """Poll video.get until the task reaches one of `statuses`; returns the video."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/v1/a2v/video.get", params={"video_id": video_id})
        assert response.status_code == 200, response.text
        video: dict[str, Any] = response.json()["data"]
        if video["status"] in statuses:
            return video
        if time.monotonic() > deadline:
            raise AssertionError(f"task {video_id} still {video['status']!r} after {timeout} s")
        time.sleep(0.02)


Generate = Callable[..., str]


@pytest.fixture
def generate(client: httpx.Client, audio_host: AudioHost) -> Generate:
    def submit(path: str = "/half.wav", *, headers: dict[str, str] | None = None, **body: Any) -> str:
        payload = {"model_id": "eva_a0008", "audio_url": audio_host.url(path), **body}
        response = client.post("/v1/a2v/video.generate", json=payload, headers=headers or {})
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["video_id"])

    return submit
