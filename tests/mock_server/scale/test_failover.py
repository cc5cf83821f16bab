"""A replica dying under an in-flight `video.generate`, behind Debian's nginx.

nginx does not pass a POST on to another replica once it was sent (it is not idempotent), so the client
gets nginx's HTML 502. The reference client sends the generate again with the same `Idempotency-Key`;
the other replica answers the id of the task the dead one had already committed: one task, and the
client has its id.

To kill the replica at the worst moment, deterministically, a relay sits between nginx and replica 0:
it passes the request on and, at the first byte of the replica's answer (the task is committed by
then), kills the replica with SIGKILL and closes both sides, so the answer never leaves.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from a2v_testkit import free_port
from a2v_testkit.backing_services import Cluster, nginx
from contract_tests.client import A2VClient

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator
    from pathlib import Path

    import httpx

    from tests.mock_server.conftest import AudioHost

pytestmark = pytest.mark.slow


class KillingRelay:
    """TCP relay on 127.0.0.1 in front of `upstream_port`; kills `victim` at the first answer byte."""

    def __init__(self, upstream_port: int, victim: subprocess.Popen[bytes]) -> None:
        self.upstream_port = upstream_port
        self.victim = victim
        self.port = free_port()
        self.killed = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._start(self._accept)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return  # closed: the replica is dead, nginx's next connection is refused
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [downstream, upstream]
            self._start(self._pump, downstream, upstream, False)
            self._start(self._pump, upstream, downstream, True)

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if answers:
                    self.victim.send_signal(signal.SIGKILL)
                    self.victim.wait()
                    self.killed.set()
                    self.close()
                    return
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        for sock in [self.listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


@pytest.fixture
def cluster(
    pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path, nginx_installed: None
) -> Iterator[Cluster]:
    config = tmp_path / "a2v.yaml"
    config.write_text(yaml.safe_dump({"audio_hosts": ["127.0.0.1", "localhost"], "test_mode": True}))
    made = Cluster(pg_dsn, broker_url, f"s3://{bucket}/{uuid.uuid4().hex[:8]}", s3_endpoint, config, tmp_path)
    try:
        made.start_replica()
        made.start_replica()
        made.start_worker()
        yield made
    finally:
        made.stop()


def test_a_replica_killed_under_a_generate_gives_one_task_and_the_client_its_id(
    cluster: Cluster, audio_host: AudioHost, tmp_path: Path
) -> None:
    (victim, victim_url), (_, survivor_url) = cluster.replicas
    relay = KillingRelay(int(victim_url.rsplit(":", 1)[1]), victim)
    statuses: list[int] = []

    def seen(response: httpx.Response) -> None:
        if response.request.url.path.endswith("video.generate"):
            statuses.append(response.status_code)

    token = f"t-{uuid.uuid4().hex}"
    try:
        # The survivor is nginx's backup: the first request surely goes through the relay.
        with (
            nginx([relay.url], tmp_path / "nginx", backup=[survivor_url]) as balancer,
            A2VClient(balancer, token, event_hooks={"response": [seen]}) as client,
        ):
            video_id = client.generate_video("eva_a0008", audio_host.url("/one.wav"))
            assert relay.killed.is_set()
            assert victim.returncode == -signal.SIGKILL
            assert statuses == [502, 200]  # nginx's answer for the dead replica, then the id
            video = client.wait_for_video(video_id, timeout=90, poll_interval=0.2)
            listed = client.list_videos()
    finally:
        relay.close()
    assert video.status == "finished", video
    assert listed.total == 1, "the generate sent twice made two tasks"
    assert [v.video_id for v in listed.items] == [video_id]
    # The dead replica had committed the task before it died: the survivor answered that task's id and
    # did not create it. (The dead replica's own "task created" line may be lost: log lines are written
    # by a listener thread, and SIGKILL leaves it no time.)
    assert f"task created video_id={video_id}" not in (tmp_path / "replica1.log").read_text()
