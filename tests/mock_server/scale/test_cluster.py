"""The scaled-out mock as it is deployed: two `a2v-mock serve` replicas and two `a2v-mock worker`s as
separate processes on PostgreSQL, RabbitMQ and S3 (moto). Cross-replica behaviour and faults."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import psycopg
import pytest
import yaml

from a2v_spec import ErrorCode
from a2v_testkit import FileHost, Reply
from a2v_testkit.backing_services import Cluster, nginx

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.mock_server.conftest import AudioHost

pytestmark = pytest.mark.slow

#: What every process of the cluster reads (as the embedded tests' TEST_SETTINGS).
CONFIG: dict[str, Any] = {
    "test_mode": True,
    "audio_hosts": ["127.0.0.1", "localhost"],
    "callback_backoff_seconds": 0.05,
    "limits": {"audio_fetch_timeout_seconds": 5.0, "max_audio_bytes": 1_000_000, "max_audio_seconds": 12.0},
}


def _cluster(
    pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path, **config: Any
) -> Cluster:
    path = tmp_path / "a2v.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, **config}))
    return Cluster(pg_dsn, broker_url, f"s3://{bucket}/{uuid.uuid4().hex[:8]}", s3_endpoint, path, tmp_path)


@pytest.fixture
def cluster(pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path) -> Iterator[Cluster]:
    made = _cluster(pg_dsn, broker_url, bucket, s3_endpoint, tmp_path)
    try:
        made.start_replica()
        made.start_replica()
        made.start_worker()
        made.start_worker()
        yield made
    finally:
        made.stop()


def _client(base_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15)


def _wait_ended(cluster: Cluster, token: str, video_id: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    turn = 0
    while True:
        cluster.check_alive()
        urls = cluster.urls
        with _client(urls[turn % len(urls)], token) as client:
            response = client.get("/v1/a2v/video.get", params={"video_id": video_id})
        turn += 1
        assert response.status_code == 200, response.text
        video: dict[str, Any] = response.json()["data"]
        if video["status"] in ("finished", "error"):
            return video
        assert time.monotonic() < deadline, f"{video_id} still {video['status']} after {timeout} s"
        time.sleep(0.1)


def test_a_task_made_on_one_replica_is_read_and_downloaded_on_the_other(
    cluster: Cluster, audio_host: AudioHost
) -> None:
    token = f"t-{uuid.uuid4().hex}"
    first, second = cluster.urls
    with _client(first, token) as client:
        made = client.post(
            "/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": audio_host.url("/one.wav")}
        )
    assert made.status_code == 200, made.text
    video_id = made.json()["data"]["video_id"]
    video = _wait_ended(cluster, token, video_id)
    assert video["status"] == "finished", video
    with _client(second, token) as client:
        again = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
        listed = client.get("/v1/a2v/video.list").json()["data"]
    assert again["video_url"].startswith(second)
    assert [v["video_id"] for v in listed] == [video_id]
    whole = httpx.get(again["video_url"], timeout=15)
    assert (whole.status_code, whole.headers["content-type"]) == (200, "video/mp4")
    assert whole.content[4:8] == b"ftyp"
    ranged = httpx.get(video["video_url"], headers={"Range": "bytes=0-99"}, timeout=15)  # signed by the first
    assert (ranged.status_code, ranged.content) == (206, whole.content[:100])
    for url in cluster.urls:
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        metrics = httpx.get(f"{url}/metrics").text
        assert 'a2v_tasks{status="finished"} 1.0' in metrics
        assert "a2v_queue_depth" in metrics


def test_a_replica_killed_during_a_burst_loses_nothing_it_accepted(
    cluster: Cluster, audio_host: AudioHost
) -> None:
    """60 generates with idempotency keys over both replicas; replica 0 is killed with SIGKILL midway.
    The client retries a failed call on the other replica with the same key, as the spec asks."""
    token = f"t-{uuid.uuid4().hex}"
    replicas = list(cluster.urls)
    answers: dict[str, set[str]] = {}
    lock = threading.Lock()
    sent = threading.Semaphore(0)

    def submit(i: int) -> None:
        key = f"key-{i}"
        body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
        headers = {"Idempotency-Key": key, "Prefer": "outcome=error; error_code=10001; duration=0.5"}
        for attempt in range(6):
            url = replicas[(i + attempt) % 2]
            try:
                with _client(url, token) as client:
                    response = client.post("/v1/a2v/video.generate", json=body, headers=headers)
            except httpx.HTTPError:
                continue  # the replica died under us: retry elsewhere with the same key
            if response.status_code == 200:
                with lock:
                    answers.setdefault(key, set()).add(response.json()["data"]["video_id"])
                sent.release()
                return
        raise AssertionError(f"{key} was never accepted")

    victim = cluster.replicas[0][0]

    def kill_midway() -> None:
        for _ in range(20):
            sent.acquire()
        os.kill(victim.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_midway)
    killer.start()
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(submit, range(60)))
    killer.join()
    assert victim.wait() == -signal.SIGKILL
    assert len(answers) == 60
    assert all(len(ids) == 1 for ids in answers.values()), "a key gave two ids"
    for ids in answers.values():
        video = _wait_ended(cluster, token, next(iter(ids)))
        assert video["error"]["code"] == 10001


def test_a_dropped_database_connection_answers_503_then_recovers(cluster: Cluster, pg_dsn: str) -> None:
    token = f"t-{uuid.uuid4().hex}"
    url = cluster.urls[0]
    with _client(url, token) as client:
        assert client.get("/v1/a2v/video.list").status_code == 200
        with psycopg.connect(pg_dsn.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid()",
                (pg_dsn.rsplit("/", 1)[1],),
            )
        codes: list[tuple[int, int]] = []
        deadline = time.monotonic() + 20
        while True:
            response = client.get("/v1/a2v/video.list")
            codes.append((response.status_code, response.json()["code"]))
            if response.status_code == 200:
                break
            assert time.monotonic() < deadline, codes
    # The pool may replace its connections before a request meets a dead one (then nothing fails);
    # a request that does meet one answers 503/1014, never a 500.
    failures = codes[:-1]
    assert set(failures) <= {(503, ErrorCode.SERVICE_UNAVAILABLE)}, failures
    # Every replica's pool lost its connections too: each recovers by itself, without a restart.
    for url in cluster.urls:
        deadline = time.monotonic() + 20
        while (ready := httpx.get(f"{url}/readyz").status_code) != 200:
            assert time.monotonic() < deadline, f"{url} still answers /readyz with {ready}"
            time.sleep(0.2)


def test_the_rate_limit_holds_across_replicas_and_callbacks_arrive_once(
    pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path, audio_host: AudioHost
) -> None:
    made = _cluster(
        pg_dsn, broker_url, bucket, s3_endpoint, tmp_path, rate_limit={"requests": 50, "per_seconds": 120}
    )
    receiver = FileHost().start()
    hook = receiver.route("/hook", Reply(status=204), methods=["POST"])
    try:
        made.start_replica()
        made.start_replica()
        made.start_worker()
        token = f"t-{uuid.uuid4().hex}"
        body = {
            "model_id": "eva_a0008",
            "audio_url": audio_host.url("/half.wav"),
            "callback_url": hook,
        }
        headers = {"Prefer": "outcome=error; error_code=10001; duration=0.2"}
        urls = made.urls

        def submit(i: int) -> httpx.Response:
            with _client(urls[i % 2], token) as client:
                return client.post("/v1/a2v/video.generate", json=body, headers=headers)

        with ThreadPoolExecutor(16) as pool:
            responses = list(pool.map(submit, range(200)))
        statuses = [r.status_code for r in responses]
        assert set(statuses) <= {200, 429}
        accepted = [r.json()["data"]["video_id"] for r in responses if r.status_code == 200]
        assert abs(len(accepted) - 50) <= 1, f"{len(accepted)} accepted for a limit of 50"
        assert all(r.json()["code"] == ErrorCode.TOO_MANY_REQUESTS for r in responses if r.status_code == 429)
        receiver.wait_for(len(accepted), "/hook", "POST", timeout=60)
        time.sleep(1.0)  # nothing more arrives
        posts = receiver.requests("/hook", "POST")
        assert len(posts) == len(accepted)
        assert sorted(json.loads(p.body)["data"]["video_id"] for p in posts) == sorted(accepted)
        assert len({p.headers["x-a2v-delivery"] for p in posts}) == len(accepted)
    finally:
        made.stop()
        receiver.stop()


def test_the_kit_full_profile_passes_against_two_replicas_in_turn(
    cluster: Cluster, tmp_path: Path, nginx_installed: None
) -> None:
    """The contract kit's full profile through nginx, which sends each request to the next replica."""
    from contract_tests.cli import main

    report = tmp_path / "kit.json"
    with nginx(cluster.urls, tmp_path / "nginx") as balancer:
        code = main(
            [
                "--base-url", balancer,
                "--api-key", f"kit-{uuid.uuid4().hex[:8]}",
                "--second-api-key", f"kit-{uuid.uuid4().hex[:8]}",
                "--profile", "full",
                "--seed", "11",
                "--report-json", str(report),
            ]
        )  # fmt: skip
    data = json.loads(report.read_text())
    failed = {k: v for k, v in data["requirements"].items() if v["outcome"] not in ("passed", "skipped")}
    assert code == 0, json.dumps(failed, indent=1)[:5000]


def test_sigterm_drains_a_replica_before_it_stops(
    pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path
) -> None:
    made = _cluster(pg_dsn, broker_url, bucket, s3_endpoint, tmp_path, drain_seconds=2.0)
    try:
        url = made.start_replica()
        process = made.replicas[0][0]
        process.terminate()
        time.sleep(0.3)
        ready = httpx.get(f"{url}/readyz", timeout=5)
        assert (ready.status_code, ready.json()["status"]) == (503, "draining")
        assert httpx.get(f"{url}/v1/ping", timeout=5).status_code == 200  # still serving while draining
        # uvicorn re-raises the captured SIGTERM once shut down, so a clean stop exits by that signal
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        log = (tmp_path / "replica0.log").read_text()
        assert "Application shutdown complete" in log, log[-2000:]
    finally:
        made.stop()


def test_one_idempotency_key_sent_to_both_replicas_at_once_gives_one_id(
    cluster: Cluster, audio_host: AudioHost
) -> None:
    token = f"t-{uuid.uuid4().hex}"
    urls = cluster.urls
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    headers = {"Idempotency-Key": "same", "Prefer": "outcome=error; error_code=10001; duration=0.2"}
    barrier = threading.Barrier(16)

    def submit(i: int) -> str:
        with _client(urls[i % 2], token) as client:
            barrier.wait()
            response = client.post("/v1/a2v/video.generate", json=body, headers=headers)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["video_id"])

    with ThreadPoolExecutor(16) as pool:
        ids = set(pool.map(submit, range(16)))
    assert len(ids) == 1
    with _client(urls[0], token) as client:
        assert client.get("/v1/a2v/video.list").headers["X-Total-Count"] == "1"
        other = client.post("/v1/a2v/video.generate", json={**body, "callback_url": "http://127.0.0.1:9/x"},
                            headers=headers)  # fmt: skip
    assert other.json()["code"] == ErrorCode.IDEMPOTENCY_CONFLICT


def test_presigned_mode_redirects_downloads_to_the_object_store(
    pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path, audio_host: AudioHost
) -> None:
    made = _cluster(pg_dsn, broker_url, bucket, s3_endpoint, tmp_path, presign_urls=True)
    try:
        url = made.start_replica()
        made.start_worker()
        token = f"t-{uuid.uuid4().hex}"
        with _client(url, token) as client:
            made_task = client.post(
                "/v1/a2v/video.generate",
                json={"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")},
            )
        video = _wait_ended(made, token, made_task.json()["data"]["video_id"])
        assert video["status"] == "finished", video
        redirect = httpx.get(video["video_url"], timeout=15)
        assert redirect.status_code == 307
        location = httpx.URL(redirect.headers["location"])
        assert location.host == "127.0.0.1"
        assert {"Expires", "Signature"} <= set(location.params)
        downloaded = httpx.get(video["video_url"], follow_redirects=True, timeout=15)
        assert (downloaded.status_code, downloaded.content[4:8]) == (200, b"ftyp")
        tampered = httpx.get(video["video_url"].replace("Signature=", "Signature=x"), timeout=15)
        assert (tampered.status_code, tampered.json()["code"]) == (403, ErrorCode.FORBIDDEN)
    finally:
        made.stop()


def test_a_flood_from_one_tenant_does_not_hold_back_another_across_workers(
    cluster: Cluster, audio_host: AudioHost
) -> None:
    """Tenant a sends 12 generates, then tenant b one, through both replicas; two workers render. b's
    task waits for about one render per worker (the ones under way), not for the rest of a's flood."""
    flooder, other = f"a-{uuid.uuid4().hex}", f"b-{uuid.uuid4().hex}"
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    urls = cluster.urls

    def submit(token: str, i: int) -> str:
        with _client(urls[i % 2], token) as client:
            response = client.post("/v1/a2v/video.generate", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["data"]["video_id"])

    def flood_ended() -> list[str]:
        with _client(urls[0], flooder) as client:
            listed = client.get("/v1/a2v/video.list", params={"page_size": 100}).json()["data"]
        assert len(listed) == 12
        return [v["video_id"] for v in listed if v["status"] in ("finished", "error")]

    with ThreadPoolExecutor(6) as pool:
        flood = list(pool.map(lambda i: submit(flooder, i), range(12)))
    single = submit(other, 1)
    ended_at_submit = flood_ended()  # read just after b's generate
    assert _wait_ended(cluster, other, single)["status"] == "finished"
    ended_meanwhile = set(flood_ended()) - set(ended_at_submit)  # read just after b's task ended
    # Fair: the renders under way when b's task came (one per worker), and at most one more each while
    # b's renders; a FIFO queue ends the whole flood first.
    assert len(ended_meanwhile) <= 4, (
        f"{len(ended_meanwhile)} of a's tasks ended while b's waited ({len(ended_at_submit)} before it)"
    )
    for video_id in flood:
        assert _wait_ended(cluster, flooder, video_id)["status"] == "finished"


def test_metrics_through_nginx_say_which_replica_answered(
    cluster: Cluster, tmp_path: Path, nginx_installed: None
) -> None:
    """Behind the balancer a scrape reaches either replica: `a2v_replica_info` names the one that
    answered, and each replica's own address answers for itself (docs/deploy.md's Prometheus example)."""
    import re

    def named(url: str) -> str:
        text = httpx.get(f"{url}/metrics", timeout=10).text
        found = re.search(r'^a2v_replica_info\{replica="([^"]+)",role="api"\} 1\.0$', text, re.M)
        assert found is not None, text[-2000:]
        return found.group(1)

    own = [named(url) for url in cluster.urls]
    assert own == [f"{os.uname().nodename}:{url.rsplit(':', 1)[1]}" for url in cluster.urls]
    with nginx(cluster.urls, tmp_path / "nginx") as balancer:
        assert {named(balancer) for _ in range(6)} == set(own)
