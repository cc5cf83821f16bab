"""Render workers on Celery + RabbitMQ as separate processes, against the real broker and database and
moto's S3: results uploaded, messages acknowledged late, a worker killed mid-render, a broker restart,
a task delivered twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.from_thread
import pytest
import yaml

from a2v_spec import ErrorCode, Status
from a2v_testkit.backing_services import S3_KEYS, spawn
from mock_server.redact import tenant_label
from mock_server.scale.celery_queue import CeleryQueue, make_celery
from mock_server.scale.postgres.store import PostgresStore
from mock_server.scale.s3 import S3FileStore
from mock_server.scenario_values import Plan, Timings
from mock_server.store import Task, new_video_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator
    from pathlib import Path

    from tests.mock_server.conftest import AudioHost

T = TypeVar("T")

pytestmark = pytest.mark.slow


class Stack:
    """A database, a vhost, a bucket prefix and the workers rendering from them."""

    def __init__(self, dsn: str, broker: str, files: str, endpoint: str, tmp: Path) -> None:
        self.dsn, self.broker, self.files_url, self.endpoint, self.tmp = dsn, broker, files, endpoint, tmp
        self._portal = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal.__enter__()
        self.store = PostgresStore(dsn)
        self.queue = CeleryQueue(make_celery(broker), self.store)
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, **S3_KEYS)
        self.files = S3FileStore(files, client=client, staging_dir=tmp / "staging")
        self.config = tmp / "a2v.yaml"
        self.config.write_text(
            yaml.safe_dump(
                {
                    "audio_hosts": ["127.0.0.1"],
                    "limits": {"audio_fetch_timeout_seconds": 5.0, "max_audio_seconds": 12.0},
                    "task_deadline_seconds": 120.0,
                }
            )
        )
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_worker(self, log_level: str = "warning", *extra: str) -> subprocess.Popen[bytes]:
        args = [
            "mock_server.runtime.cli",
            "worker",
            "--config",
            str(self.config),
            "--store",
            self.dsn,
            "--queue",
            self.broker,
        ]
        args += [
            "--files",
            self.files_url,
            "--s3-endpoint-url",
            self.endpoint,
            "--log-level",
            log_level,
            *extra,
        ]
        process = spawn(args, self.tmp / f"worker{len(self.workers)}.log")
        self.workers.append(process)
        return process

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run a coroutine function of the store or queue on this stack's event loop thread."""
        return self.portal.call(function, *args)

    def submit(
        self,
        audio_url: str,
        *,
        callback_url: str | None = None,
        pending_seconds: float = 0.0,
        tenant: str = "t",
        publish: bool = True,
    ) -> str:
        """Insert a task and (unless not `publish`) publish its render message, as a replica does."""
        now = int(time.time())
        plan = Plan(timings=Timings(pending_seconds=pending_seconds), accepted_at=time.time())
        task = Task(
            video_id=new_video_id(), tenant=tenant, token=tenant, model_id="eva_a0008", audio_url=audio_url,
            callback_url=callback_url, status=Status.PENDING, progress=0, error_code=None,
            error_message=None, duration=None, created_at=now, updated_at=now, plan=plan,
        )  # fmt: skip
        self.call(self.store.insert_task, task)
        if publish:
            self.call(self.queue.submit, task.video_id)
        return task.video_id

    def task(self, video_id: str) -> Task:
        task = self.call(self.store.get_task, video_id)
        assert task is not None
        return task

    def statuses(self) -> dict[str, Status]:
        """Every task's status, read in one statement (a consistent snapshot)."""
        tasks, _ = self.call(lambda: self.store.list_tasks(None, limit=100))
        return {task.video_id: task.status for task in tasks}

    def attempt_of(self, video_id: str) -> tuple[int, str | None]:
        return self.call(self.store.attempt_of, video_id)

    def exists(self, name: str) -> bool:
        return self.files.exists_now(name)

    def wait(self, video_id: str, until: Callable[[Task], bool], timeout: float = 90) -> Task:
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(video_id)
            if until(task):
                return task
            self._check_workers()
            assert time.monotonic() < deadline, (
                f"task {video_id} is {task.status} {task.progress}% after {timeout} s"
            )
            time.sleep(0.05)

    def statuses_when(
        self, until: Callable[[dict[str, Status]], bool], timeout: float = 90
    ) -> dict[str, Status]:
        """The first snapshot of every task's status that satisfies `until`."""
        deadline = time.monotonic() + timeout
        while not until(seen := self.statuses()):
            self._check_workers()
            assert time.monotonic() < deadline, f"statuses after {timeout} s: {seen}"
            time.sleep(0.05)
        return seen

    def _check_workers(self) -> None:
        for process in self.workers:
            if process.returncode is None and process.poll() is not None:
                log = (self.tmp / f"worker{self.workers.index(process)}.log").read_text()
                raise AssertionError(f"a worker died on its own:\n{log[-3000:]}")

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.queue.close()
        self.call(self.store.aclose)
        self._portal.__exit__(None, None, None)


def ended(task: Task) -> bool:
    return task.terminal


@pytest.fixture
def stack(pg_dsn: str, broker_url: str, bucket: str, s3_endpoint: str, tmp_path: Path) -> Iterator[Stack]:
    made = Stack(pg_dsn, broker_url, f"s3://{bucket}/run", s3_endpoint, tmp_path)
    try:
        yield made
    finally:
        made.close()


def test_two_workers_render_and_upload(stack: Stack, audio_host: AudioHost) -> None:
    stack.start_worker()
    stack.start_worker()
    ids = [stack.submit(audio_host.url("/one.wav")) for _ in range(4)]
    ids.append(stack.submit(audio_host.url("/image.wav")))
    results = [stack.wait(video_id, ended) for video_id in ids]
    assert [t.status for t in results] == ["finished"] * 4 + ["error"]
    assert results[-1].error_code == ErrorCode.AUDIO_NOT_DECODABLE
    for task in results[:4]:
        assert task.duration == pytest.approx(1.0, abs=0.1)
        assert stack.exists(f"videos/{task.video_id}.mp4")
        assert stack.exists(f"videos/{task.video_id}.mask.mp4")
        assert stack.attempt_of(task.video_id)[0] == 1
    workers = {stack.attempt_of(t.video_id)[1] for t in results}
    assert len(workers) == 2, "both workers took tasks"
    assert stack.queue.depth() == 0


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_task_lines_name_the_video_the_tenant_and_the_code(
    stack: Stack, audio_host: AudioHost, log_format: str
) -> None:
    """A worker's `task finished` / `task error` lines carry what the replicas' do: the video id, the
    tenant's label (never its token) and, for an error, the code."""
    stack.start_worker("info", "--log-format", log_format)
    good = stack.submit(audio_host.url("/one.wav"), tenant="secret-token")
    bad = stack.submit(audio_host.url("/image.wav"), tenant="secret-token")
    assert stack.wait(good, ended).status == "finished"
    assert stack.wait(bad, ended).error_code == ErrorCode.AUDIO_NOT_DECODABLE
    label = tenant_label("secret-token")
    log = stack.tmp / "worker0.log"
    deadline = time.monotonic() + 10
    while "task error" not in (text := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)  # written just after the task's status moved
    assert "secret-token" not in text
    if log_format == "text":
        assert f"task finished video_id={good} tenant={label} duration=" in text, text[-3000:]
        assert f"task error video_id={bad} tenant={label} code={int(ErrorCode.AUDIO_NOT_DECODABLE)}" in text
    else:
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        events = {(e["message"], e.get("video_id")): e for e in lines}
        assert events[("task finished", good)]["tenant"] == label
        error = events[("task error", bad)]
        assert (error["tenant"], error["code"]) == (label, ErrorCode.AUDIO_NOT_DECODABLE)


def test_a_worker_killed_mid_render_leaves_the_task_to_the_other(stack: Stack, audio_host: AudioHost) -> None:
    first = stack.start_worker()
    video_id = stack.submit(audio_host.url("/ten.wav"))
    task = stack.wait(video_id, lambda t: t.status == "in_progressing" and t.progress > 5, timeout=60)
    assert task.progress < 99, "the render ended before the kill"
    attempts, worker = stack.attempt_of(video_id)
    assert attempts == 1
    assert worker is not None
    assert worker.endswith(f":{first.pid}")
    stack.start_worker()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    finished = stack.wait(video_id, ended)
    assert finished.status == "finished"
    attempts, worker = stack.attempt_of(video_id)
    assert attempts == 2
    assert worker is not None
    assert not worker.endswith(f":{first.pid}")
    assert stack.exists(f"videos/{video_id}.mp4")


def test_a_redelivered_message_resumes_the_task_it_claimed_not_its_own(
    stack: Stack, audio_host: AudioHost
) -> None:
    """A message is a render turn: y's message runs x, older and of a tenant never served. Killed
    mid-render, that message comes back to the other worker, which resumes x (not y, not a free pick)."""
    older = stack.submit(audio_host.url("/ten.wav"), tenant="x", publish=False)  # its publish is late
    own = stack.submit(audio_host.url("/half.wav"), tenant="y")
    first = stack.start_worker()
    task = stack.wait(older, lambda t: t.status == "in_progressing" and t.progress > 5, timeout=60)
    assert task.progress < 99, "the render ended before the kill"
    assert stack.task(own).status == "pending"
    assert stack.attempt_of(older)[0] == 1
    stack.start_worker()
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    assert stack.wait(older, ended).status == "finished"
    attempts, worker = stack.attempt_of(older)
    assert attempts == 2
    assert worker is not None
    assert not worker.endswith(f":{first.pid}")
    assert stack.statuses()[own] == "pending", "the redelivered turn ran a second task"
    stack.call(stack.queue.submit, older)  # x's own message, late: it runs the task still waiting
    assert stack.wait(own, ended).status == "finished"
    assert stack.attempt_of(own)[0] == 1


def test_a_task_delivered_twice_ends_once_with_one_result(stack: Stack, audio_host: AudioHost) -> None:
    stack.start_worker()
    stack.start_worker()
    video_id = stack.submit(audio_host.url("/one.wav"), callback_url="http://127.0.0.1:9/cb")
    stack.queue.publish(video_id)  # a duplicate message, as after a lost ack
    task = stack.wait(video_id, ended)
    deadline = time.monotonic() + 60
    while stack.attempt_of(video_id)[0] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert task.status == "finished"
    assert len(stack.call(lambda: stack.store.deliveries(video_id=video_id))) == 1
    listed = stack.files.client.list_objects_v2(Bucket=stack.files.bucket, Prefix="run/videos/")
    assert sorted(o["Key"] for o in listed["Contents"]) == [
        f"run/videos/{video_id}.mask.mp4",
        f"run/videos/{video_id}.mp4",
    ]


def test_another_tenants_task_waits_for_one_render_not_for_the_flood(
    stack: Stack, audio_host: AudioHost
) -> None:
    """Tenant a floods the queue with 12 tasks, then tenant b sends one. The broker holds b's message
    behind a's twelve; the worker still gives b the next render after the one it started."""
    flood = [stack.submit(audio_host.url("/half.wav"), tenant="a") for _ in range(12)]
    single = stack.submit(audio_host.url("/half.wav"), tenant="b")
    stack.start_worker()
    statuses = stack.statuses_when(lambda seen: seen[single] in ("finished", "error"))
    assert statuses[single] == "finished"
    done_before = [video_id for video_id in flood if statuses[video_id] in ("finished", "error")]
    assert len(done_before) <= 2, f"b's task ended after {len(done_before)} of a's 12"
    assert [stack.wait(video_id, ended).status for video_id in flood] == ["finished"] * 12


#: Restarting RabbitMQ cuts every connection to it, so these tests run only when nothing runs beside them:
#: `scripts/test` runs the `alone` tests after the others, in one process (never under pytest-xdist).
_not_beside_others = pytest.mark.skipif(
    bool(os.environ.get("PYTEST_XDIST_WORKER")),
    reason="restarts the broker, which would disturb the tests running in parallel",
)


def alone(test: Any) -> Any:
    return pytest.mark.alone(_not_beside_others(test))


def _restart_broker() -> None:
    subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, capture_output=True, timeout=120)
    subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, capture_output=True, timeout=120)


@alone
def test_tasks_waiting_in_the_broker_survive_its_restart(stack: Stack, audio_host: AudioHost) -> None:
    ids = [stack.submit(audio_host.url("/half.wav")) for _ in range(4)]
    assert stack.queue.depth() == 4
    _restart_broker()
    stack.start_worker()
    stack.start_worker()
    assert [stack.wait(video_id, ended).status for video_id in ids] == ["finished"] * 4


@alone
def test_a_worker_rides_out_a_broker_restart(stack: Stack, audio_host: AudioHost) -> None:
    stack.start_worker()
    ids = [stack.submit(audio_host.url("/half.wav"), pending_seconds=2.0) for _ in range(3)]
    stack.wait(ids[0], lambda t: stack.attempt_of(t.video_id)[0] >= 1, timeout=60)
    _restart_broker()
    assert [stack.wait(video_id, ended, timeout=120).status for video_id in ids] == ["finished"] * 3


def test_sigterm_lets_a_worker_finish_its_render(stack: Stack, audio_host: AudioHost) -> None:
    worker = stack.start_worker()
    video_id = stack.submit(audio_host.url("/ten.wav"))
    stack.wait(video_id, lambda t: t.status == "in_progressing" and t.progress > 5, timeout=60)
    worker.terminate()  # warm shutdown: finish, store, acknowledge, exit
    assert worker.wait(timeout=120) == 0
    task = stack.task(video_id)
    assert task.status == "finished"
    assert stack.attempt_of(video_id)[0] == 1
    assert stack.queue.depth() == 0  # acknowledged: nothing left to redeliver
