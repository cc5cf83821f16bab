"""A hostile HTTP host, a guard that fails a test reaching a non-loopback address, and mock helpers.

Everything here talks to 127.0.0.1 only. Tests that judge other addresses stub name resolution
(`resolve_as`) and patch the connection layer (`connections`) so that a connection the policy let
through is recorded and refused before any packet leaves: a test never reaches such an address.
"""

from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpcore
import httpx
import pytest
import yaml

from a2v_testkit import FileHost, Redirect, Reply, Stream, free_port, speech_wav
from mock_server.tasks import egress
from mock_server.testing import RunningServer, run_server
from tests.mock_server.conftest import wait_for as wait_for  # the security tests poll tasks with it

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Loopback-only settings every security test server shares (no prewarm: fewer processes).
BASE: dict[str, Any] = {
    "render_workers": 1,
    "prewarm": False,
    "callback_backoff_seconds": 0.05,
    "limits": {"audio_fetch_timeout_seconds": 3.0, "max_audio_bytes": 1_000_000, "max_audio_seconds": 12.0},
}


async def _hang(scope: Any, receive: Any, send: Any) -> None:
    """Accept the request and never answer until the client hangs up."""
    while (await receive())["type"] != "http.disconnect":
        pass


class HostileHost(FileHost):
    """Loopback endpoints that attack whoever fetches from them or posts to them."""

    def start(self) -> HostileHost:
        super().start()
        self.add("/ok.wav", speech_wav(0.5), "audio/wav")
        self.route("/huge", Stream(chunks=10_000))  # 655 MB, undeclared
        self.route("/drip", Stream(chunks=10_000, chunk_size=1, interval=0.2))  # a byte every 0.2 s
        bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)  # 64 KiB that inflate to 64 MiB
        self.route("/gzip-bomb", Reply(bomb, content_type="audio/wav", headers={"content-encoding": "gzip"}))
        self.route("/hang", _hang)
        self.route("/hook", Reply(b"", status=204), methods=["POST"])
        # A receiver answering 200 and then an endless body, a block every 0.2 s.
        self.route("/hook-huge", Stream(chunks=10**6, interval=0.2), methods=["POST"])
        return self

    def redirect(self, path: str, location: str) -> str:
        return self.route(path, Redirect(location))


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileHost]:
    with HostileHost() as host:
        yield host


@pytest.fixture
def serve() -> Iterator[Callable[..., RunningServer]]:
    """Start mocks with `BASE` plus overrides; all are stopped at the end of the test."""
    import contextlib

    with contextlib.ExitStack() as stack:

        def start(**overrides: Any) -> RunningServer:
            return stack.enter_context(run_server(**{**BASE, **overrides}))

        yield start


@pytest.fixture
def resolve_as(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
    """Stub name resolution: `{name: address}`; address literals resolve to themselves, others fail."""

    def install(names: dict[str, str]) -> None:
        async def fake(host: str, port: int) -> list[str]:
            if host in names:
                return [names[host]]
            return await real(host, port) if _is_literal(host) or host == "localhost" else _fail(host)

        real = egress.resolve
        monkeypatch.setattr(egress, "resolve", fake)

    return install


def _is_literal(host: str) -> bool:
    import socket

    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host.strip("[]"))
            return True
        except OSError:
            continue
    return host.replace(".", "").replace("x", "").isalnum() and host[0].isdigit()  # 0x7f.1, 127.1


def _fail(host: str) -> list[str]:
    raise OSError(f"name resolution is stubbed in this test: {host!r}")


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection the mock opens to a non-loopback address, refused before it is made."""
    attempts: list[tuple[str, int]] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def guarded(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", "::1"):
            attempts.append((host, port))
            raise httpcore.ConnectError("the test refused a connection outside loopback")
        return await original(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", guarded)
    return attempts


class Served(Protocol):
    """A mock that answers at `base_url`: in-process (`RunningServer`) or its own process (`MockProcess`)."""

    @property
    def base_url(self) -> str: ...


def client_for(server: Served, token: str | None = None) -> httpx.Client:
    token = token or f"sec-{uuid.uuid4().hex}"
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def submit(client: httpx.Client, audio_url: str, **body: Any) -> str:
    response = client.post(
        "/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": audio_url, **body}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["video_id"])


def wait_until(condition: Callable[[], Any], timeout: float = 15, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.05)
    return value


def admin_headers(server: RunningServer) -> dict[str, str]:
    """What an admin call to `server` carries: its admin key, when it has one (keyed mode needs one)."""
    key = server.settings.admin_key
    return {} if key is None else {"Authorization": f"Bearer {key}"}


def deliveries(server: RunningServer, video_id: str) -> list[dict[str, Any]]:
    """The callback deliveries of one task, as the admin API lists them."""
    response = httpx.get(
        f"{server.base_url}/__admin/callbacks",
        params={"video_id": video_id},
        headers=admin_headers(server),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


ROOT = Path(__file__).resolve().parents[2]


class MockProcess:
    """`a2v-mock` as its own process (so it can be killed with -9), on a free loopback port."""

    def __init__(self, data_dir: Path, settings: dict[str, Any], *, wait: bool = True) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        config = data_dir.parent / f"mock-{self.port}.yaml"
        config.write_text(yaml.safe_dump(settings))
        self.log = data_dir.parent / f"mock-{self.port}.log"
        args = ["--port", str(self.port), "--data-dir", str(data_dir), "--config", str(config)]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mock_server.runtime.cli", *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if wait:
            wait_until(self.answers, timeout=60, what=f"a2v-mock on {self.port}")

    def answers(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.base_url}/v1/ping", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def children(self) -> list[int]:
        """Pids of this server's descendant processes (render workers, resource tracker)."""
        return descendants(self.process.pid)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat_fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
