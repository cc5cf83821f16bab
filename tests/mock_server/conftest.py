"""Fixtures for the mock server's tests: audio made in code, a local audio host, running mocks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from a2v_testkit import DeclaredLength, FileHost, Redirect, Stream, speech_wav
from mock_server.testing import RunningServer, run_server

TERMINAL = ("finished", "error")


def make_wav(seconds: float, rate: int = 16000) -> bytes:
    return speech_wav(seconds, rate)


class AudioHost(FileHost):
    """The loopback host of the mock's tests: audio fixtures and endpoints that misbehave on purpose."""

    def start(self) -> AudioHost:
        super().start()
        files = {
            "/one.wav": make_wav(1.0),
            "/half.wav": make_wav(0.5),
            "/ten.wav": make_wav(10.0),
            "/short.wav": make_wav(0.1),
            "/long.wav": make_wav(12.5),
            "/audio-without-extension": make_wav(0.6),
            "/image.wav": b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
            "/empty.wav": b"",
        }
        for path, data in files.items():
            self.add(path, data)
        for status in (403, 404, 410, 500):
            self.add(f"/status/{status}", b"", status=status)
        self.route("/loop", Redirect("/loop"))
        self.route("/huge-declared", DeclaredLength(10**9))
        self.route("/huge-streamed", Stream(chunks=64))
        self.add("/slow", b"", delay=6)  # past the 3 s total download time
        return self


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
    "limits": {"audio_fetch_timeout_seconds": 3.0, "max_audio_bytes": 1_000_000, "max_audio_seconds": 12.0},
}


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    """One real uvicorn mock per test module; tests isolate themselves with their own token."""
    with run_server(**TEST_SETTINGS) as running:
        yield running
        assert running.mock.violations == [], "responses that did not match the spec"


@dataclass(frozen=True)
class Scaled:
    """A running scaled-out mock: `url` is its balancer's, `replicas` the replicas' own URLs."""

    url: str
    replicas: list[str]


@pytest.fixture(scope="module")
def scaled_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scaled]:
    """The scaled-out mock as deployed: two `a2v-mock serve` replicas and two `a2v-mock worker`s as
    processes on PostgreSQL, RabbitMQ and S3 (moto), behind Debian's nginx, which sends each request to
    the next replica. One per module (it takes seconds to start); tests that change shared state reset it."""
    import os

    import yaml

    from a2v_testkit.backing_services import (
        AMQP_URL,
        POSTGRES_URL,
        Cluster,
        moto_server,
        nginx,
        nginx_binary,
        reachable,
        temp_bucket,
        temp_database,
        temp_vhost,
    )

    for url, what in ((POSTGRES_URL, "PostgreSQL"), (AMQP_URL, "RabbitMQ")):
        if not reachable(url):
            (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
                f"{what} is not reachable at {url}"
            )
    if nginx_binary() is None:
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(
            "nginx is not installed (scripts/install-scale-tools)"
        )
    tmp = tmp_path_factory.mktemp("scaled")
    config = tmp / "a2v.yaml"
    config.write_text(yaml.safe_dump({k: v for k, v in TEST_SETTINGS.items() if k != "render_workers"}))
    with temp_database() as dsn, temp_vhost() as broker, moto_server() as s3, temp_bucket(s3) as bucket:
        cluster = Cluster(dsn, broker, f"s3://{bucket}/api", s3, config, tmp)
        try:
            for _ in range(2):
                cluster.start_replica()
                cluster.start_worker()
            with nginx(cluster.urls, tmp / "nginx") as balancer:
                yield Scaled(balancer, cluster.urls)
        finally:
            cluster.stop()


@pytest.fixture(scope="module")
def scaled_server(scaled_cluster: Scaled) -> str:
    """The balancer's URL of the module's scaled-out mock."""
    return scaled_cluster.url


#: The parameter that runs a test against the scaled-out mock too (slow: it starts a cluster).
SCALED = pytest.param("scaled", marks=pytest.mark.slow)


def is_scaled(request: pytest.FixtureRequest) -> bool:
    """Whether this test runs against the scaled-out mock (its `front_client`/`mock` parameter)."""
    return _scaled(request.node)


def _scaled(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and "scaled" in callspec.params.values()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` a module's scaled tests share one xdist worker, so they share the one
    cluster its module-scoped fixture starts (instead of one cluster per worker)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and _scaled(item):
            item.add_marker(pytest.mark.xdist_group(f"scaled:{item.nodeid.split('::')[0]}"))


@pytest.fixture(params=["socket", SCALED])
def front_client(request: pytest.FixtureRequest, token: str) -> Iterator[httpx.Client]:
    """A client with a fresh token to the mock's front door: the embedded server over a socket, or the
    scaled-out mock's balancer (each request to the next replica)."""
    if request.param == "socket":
        base_url = request.getfixturevalue("server").base_url
    else:
        base_url = request.getfixturevalue("scaled_server")
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        yield c


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
