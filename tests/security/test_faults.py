"""Faults end tasks, not strand them: full disks, refused store writes, killed workers and servers,
two servers on one data directory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_testkit import LifespanError, Reply, app_client, free_port, speech_wav
from mock_server.config import Settings
from mock_server.errors import StorageUnavailable
from mock_server.runtime.app import create_app
from mock_server.testing import run_server
from tests.security.conftest import (
    BASE,
    ROOT,
    MockProcess,
    alive,
    client_for,
    descendants,
    submit,
    wait_for,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.security.conftest import HostileHost


def test_a_second_server_on_the_data_directory_refuses_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(**BASE, data_dir=str(data)):
        port = str(free_port())
        done = subprocess.run(
            [sys.executable, "-m", "mock_server.runtime.cli", "--data-dir", str(data), "--port", port],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, done.stderr
        assert f"in use by another a2v-mock (pid {os.getpid()})" in lines[0]
        with (
            pytest.raises(LifespanError, match="in use by another a2v-mock"),
            app_client(create_app(Settings(**BASE, data_dir=data))),
        ):
            pass
    with app_client(create_app(Settings(**BASE, data_dir=data))) as client:  # released on shutdown
        assert client.get("/v1/ping").status_code == 200


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server.runtime.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _corrupt_pages(data: Path) -> None:
    """A real database whose table pages were overwritten (the header and schema page intact)."""
    import sqlite3

    data.mkdir(parents=True)
    db = sqlite3.connect(data / "mock.sqlite3")
    db.execute("CREATE TABLE filler (x TEXT)")
    db.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 200)
    db.commit()
    db.close()
    with (data / "mock.sqlite3").open("r+b") as handle:
        handle.seek(4096 * 2)
        handle.write(b"\xa5" * 4096 * 8)


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(
            lambda d: (d.mkdir(parents=True), (d / "mock.sqlite3").write_bytes(b"junk" * 5000)), id="junk"
        ),
        pytest.param(lambda d: (d.mkdir(parents=True), (d / "mock.sqlite3").mkdir()), id="a-directory"),
        pytest.param(_corrupt_pages, id="corrupt-pages"),
    ],
)
def test_an_unusable_database_file_is_one_line_and_exit_2(tmp_path: Path, spoil: Any) -> None:
    data = tmp_path / "data"
    spoil(data)
    done = _cli("--data-dir", str(data), "--port", "0")
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("a2v-mock: database ")
    for part in ("mock.sqlite3", "is not usable", "--data-dir"):
        assert part in lines[0]


def test_the_start_up_check_holds_the_lock_until_the_server_adopts_it(tmp_path: Path) -> None:
    """The check used to release the lock before the lifespan took it again: in between, a second
    server passed the check too, and died later with a traceback (exit 3)."""
    from mock_server.runtime.startup import check_data_dir_free

    data = tmp_path / "data"
    settings = Settings(**BASE, data_dir=data)
    check_data_dir_free(settings)
    probe = (
        "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
        "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"
    )
    taken = subprocess.run([sys.executable, "-c", probe, str(data / "server.lock")], capture_output=True)
    assert taken.returncode != 0  # still held by this process
    with app_client(create_app(settings)) as client:  # the lifespan adopts the held lock
        assert client.get("/v1/ping").status_code == 200
    free = subprocess.run([sys.executable, "-c", probe, str(data / "server.lock")], capture_output=True)
    assert free.returncode == 0  # released when the server stopped


def test_two_servers_started_at_once_one_serves_the_other_is_one_line_exit_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"stderr-{port}.txt" for port in ports]
    runs = []
    for port, log in zip(ports, logs, strict=True):
        with log.open("w") as err:
            runs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "mock_server.runtime.cli",
                        "--data-dir",
                        str(data),
                        "--port",
                        str(port),
                    ],
                    cwd=ROOT,
                    stdout=subprocess.DEVNULL,
                    stderr=err,
                )
            )
    try:
        loser = wait_until(lambda: next((r for r in runs if r.poll() is not None), None), 60, "a refusal")
        index = 1 - runs.index(loser)
        stderr = logs[runs.index(loser)].read_text()
        assert loser.returncode == 2, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert "in use by another a2v-mock" in stderr

        def answers() -> bool:
            assert runs[index].poll() is None, logs[index].read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{ports[index]}/v1/ping", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, 60, "the winner to serve")
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()  # its render workers die with it (PR_SET_PDEATHSIG)
            run.wait(timeout=30)


def test_readyz_answers_503_once_the_database_file_is_unusable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(**BASE, data_dir=str(data)) as server:
        assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
        with (data / "mock.sqlite3").open("r+b") as handle:
            handle.write(b"\0" * 4096)  # the header and schema page gone
        spoiled = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert spoiled.status_code == 503, spoiled.text
        assert spoiled.json()["checks"]["store"] != "ok"
        assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200  # alive, not ready


def test_readyz_answers_503_once_the_database_file_is_removed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(**BASE, data_dir=str(data)) as server:
        (data / "mock.sqlite3").unlink()  # the connection would go on writing to a file nobody sees
        spoiled = httpx.get(f"{server.base_url}/readyz", timeout=10)
        assert spoiled.status_code == 503, spoiled.text


def test_render_workers_exit_within_2_s_of_their_parent(tmp_path: Path) -> None:
    server = MockProcess(tmp_path / "data", {"render_workers": 2, "prewarm": True})
    try:
        workers = wait_until(lambda: len(server.children()) >= 2 and server.children(), what="workers")
    finally:
        server.kill()
    killed = time.monotonic()
    wait_until(lambda: not any(alive(pid) for pid in workers), timeout=10, what="workers to exit")
    assert time.monotonic() - killed < 2.5


def _workers_of_this_process() -> list[int]:
    found = []
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"multiprocessing" in command and b"resource_tracker" not in command:
                found.append(pid)
    return found


@pytest.mark.slow
def test_a_killed_render_worker_loses_no_task(hostile: HostileHost) -> None:
    url = hostile.add("/eight.wav", speech_wav(8.0), "audio/wav")
    with run_server(**BASE) as server, client_for(server) as client:
        ids = [submit(client, url) for _ in range(3)]
        first = ids[0]

        def rendering() -> bool:
            video = client.get("/v1/a2v/video.get", params={"video_id": first}).json()["data"]
            return bool(video["progress"] > 5 and _workers_of_this_process())

        wait_until(rendering, timeout=30, what="the first render")
        for pid in _workers_of_this_process():
            os.kill(pid, signal.SIGKILL)
        videos = [wait_for(client, video_id, timeout=90) for video_id in ids]
        assert [v["status"] for v in videos] == ["finished"] * 3, [v.get("error") for v in videos]
        staging = server.settings.data_dir / "tmp"
        assert list(staging.iterdir()) == []
        assert all(f.stat().st_size > 0 for f in (server.settings.data_dir / "files" / "videos").iterdir())


def test_an_ending_the_store_refused_is_recorded_when_it_can_be(hostile: HostileHost) -> None:
    with run_server(**BASE, task_deadline_seconds=5) as server, client_for(server) as client:
        store = server.mock.store
        real = store.advance
        failing = [True]

        async def advance(video_id: str, status: Any, **kwargs: Any) -> Any:
            if failing[0] and str(status) in ("finished", "error"):
                raise StorageUnavailable("the task store")
            return await real(video_id, status, **kwargs)

        store.advance = advance
        try:
            video_id = submit(client, hostile.url("/ok.wav"))
            wait_until(lambda: video_id in server.mock.runner._unended, timeout=20, what="a refused ending")
            assert video_id not in server.mock.runner.running  # its coroutine ended, observed
            failing[0] = False
            assert wait_for(client, video_id, timeout=5)["status"] == "finished"
        finally:
            store.advance = real


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs (as root); skipped where mounting is not permitted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-capped tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler


def test_a_full_disk_answers_503_1014_and_ends_tasks(small_disk: Path, hostile: HostileHost) -> None:
    settings = {**BASE, "task_deadline_seconds": 10, "timings": {"pending_seconds": 1.0}}
    with run_server(**settings, data_dir=str(small_disk / "data")) as server, client_for(server) as client:
        waiting = submit(client, hostile.url("/ok.wav"))
        filler = _fill(small_disk)
        body = {"model_id": "eva_a0008", "audio_url": hostile.url("/ok.wav")}
        refused = client.post("/v1/a2v/video.generate", json=body)
        assert (refused.status_code, refused.json()["code"]) == (503, 1014)
        assert int(refused.headers["retry-after"]) > 0
        login = client.post("/v1/auth/account.login", json={"username": "u", "password": "p"})
        assert (login.status_code, login.json()["code"]) == (503, 1014)
        wait_until(lambda: waiting in server.mock.runner._unended, timeout=20, what="the task to fail")
        assert client.get("/v1/a2v/video.get", params={"video_id": waiting}).status_code == 200
        filler.unlink()
        video = wait_for(client, waiting, timeout=10)  # the watchdog records its end once it can
        assert video["status"] == "error"
        assert video["error"]["code"] == 1500
        assert "/" not in video["error"]["message"].replace("full or failing", "")
        assert list((small_disk / "data" / "tmp").iterdir()) == []


@pytest.mark.slow
def test_crash_loop_loses_and_duplicates_nothing(tmp_path: Path, hostile: HostileHost) -> None:
    data = tmp_path / "data"
    settings = {
        "audio_hosts": ["127.0.0.1"],
        "callback_hosts": ["127.0.0.1"],
        "render_workers": 1,
        "prewarm": False,
        "callback_backoff_seconds": 0.2,
    }
    hook = hostile.route(f"/crash-{uuid.uuid4().hex}", Reply(status=204), methods=["POST"])
    two = hostile.add("/two.wav", speech_wav(2.0), "audio/wav")
    token = f"crash-{uuid.uuid4().hex}"
    ids: list[str] = []
    children: set[int] = set()
    for round_ in range(10):
        server = MockProcess(data, settings)
        with client_for(server, token) as client:
            ids += [submit(client, url, callback_url=hook) for url in (hostile.url("/ok.wav"), two)]
            if round_ == 4:  # once, a render worker dies first
                workers = wait_until(server.children, timeout=30, what="a render worker")
                for pid in workers:
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.15 * (round_ % 4))  # the crash lands at a different point each round
        children |= set(server.children())
        server.kill()
    final = MockProcess(data, settings)
    try:
        with client_for(final, token) as client:
            videos = [wait_for(client, video_id, timeout=120) for video_id in ids]
            listed = client.get("/v1/a2v/video.list", params={"page_size": 100}).json()["data"]
        assert len(listed) == len(ids) == len(set(ids))
        assert [v["status"] for v in videos] == ["finished"] * len(ids), [v.get("error") for v in videos]
        files = data / "files" / "videos"
        assert all((files / f"{v['video_id']}.mp4").stat().st_size > 0 for v in videos)
        assert list((data / "tmp").iterdir()) == []
        path = "/" + hook.split("/", 3)[3]

        def delivered() -> dict[str, set[str]]:
            by_video: dict[str, set[str]] = {}
            for request in hostile.requests(path, method="POST"):
                video_id = json.loads(request.body)["data"]["video_id"]
                by_video.setdefault(video_id, set()).add(request.headers["x-a2v-delivery"])
            return by_video if set(by_video) == set(ids) else {}

        by_video = wait_until(delivered, timeout=60, what="a callback for every task")
        assert all(len(delivery_ids) == 1 for delivery_ids in by_video.values())  # one delivery per task
        records = httpx.get(f"{final.base_url}/__admin/callbacks", timeout=10).json()["data"]
        assert sorted(r["video_id"] for r in records) == sorted(ids)
    finally:
        children |= set(final.children())
        final.kill()
    wait_until(lambda: not any(alive(pid) for pid in children), timeout=5, what="no orphan process")


def _render_job(tmp_path: Path, output: Path) -> Any:
    from mock_server.tasks.render import RenderJob

    audio = tmp_path / "speech.wav"
    audio.write_bytes(speech_wav(1.0))
    return RenderJob(
        job_id="full-disk",
        audio=str(audio),
        model_id="eva_a0008",
        output=str(output),
        mask_output=str(output.with_name("mask.mp4")),
        size=128,
        fps=25,
        min_duration=0.0,
        max_duration=60.0,
        characters_file=None,
    )


def test_a_render_that_cannot_write_ends_with_catalog_wording(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import reference_renderer
    from mock_server.errors import STORAGE_FAILED
    from mock_server.tasks.render import process_pool as local

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/srv/a2v/staging/videos--x.mp4")

    monkeypatch.setattr(reference_renderer, "render", full)
    rendered = local.render_job(_render_job(tmp_path, tmp_path / "out.mp4"))
    assert (rendered.failure, rendered.message) == (1500, STORAGE_FAILED)


def test_a_render_on_a_full_disk_ends_with_catalog_wording(tmp_path: Path, small_disk: Path) -> None:
    from mock_server.errors import STORAGE_FAILED
    from mock_server.tasks.render import process_pool as local

    filler = _fill(small_disk)
    try:
        rendered = local.render_job(_render_job(tmp_path, small_disk / "out.mp4"))
    finally:
        filler.unlink()
    assert (rendered.failure, rendered.message) == (1500, STORAGE_FAILED)
    assert "space" not in rendered.message
