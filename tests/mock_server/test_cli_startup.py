"""`a2v-mock` start-up as a process: the banner after the bind, one-line failures, flags, logs, --reload."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from mock_server.runtime.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"a2v-mock listening on (http://127\.0\.0\.1:(\d+))")


class Process:
    """`python -m mock_server.runtime.cli ARGS` with stdout and stderr kept apart, stopped at the end."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.out = tmp_path / "stdout.log"
        self.err = tmp_path / "stderr.log"
        command = [
            sys.executable,
            "-m",
            "mock_server.runtime.cli",
            "--data-dir",
            str(tmp_path / "data"),
            *args,
        ]
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)

    def wait_for(self, pattern: re.Pattern[str], where: str = "out", timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        path = self.out if where == "out" else self.err
        while True:
            found = pattern.search(path.read_text())
            if found:
                return found
            assert self.process.poll() is None, self.out.read_text() + self.err.read_text()
            assert time.monotonic() < deadline, self.out.read_text() + self.err.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.wait()


FAST = ["--render-workers", "1"]


def submit(base: str, headers: dict[str, str], body: dict[str, str]) -> str:
    """Submit a task to the mock at `base`; its video_id."""
    return str(
        httpx.post(f"{base}/v1/a2v/video.generate", json=body, headers=headers).json()["data"]["video_id"]
    )


def test_port_0_banner_shows_the_real_port_once_it_answers(tmp_path: Path, processes: list[Process]) -> None:
    cli = Process(tmp_path, "--port", "0", *FAST)
    processes.append(cli)

    found = cli.wait_for(LISTENING)

    base, port = found[1], int(found[2])
    assert port != 0
    assert httpx.get(f"{base}/v1/ping").status_code == 200  # printed after the bind: it answers at once
    banner = cli.out.read_text()
    assert f"{base}/console" in banner
    assert f"{base}/samples/hello.wav" in banner


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        code = main(["--port", str(port), "--data-dir", str(tmp_path / "d")])
    finally:
        holder.close()

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == (
        f"a2v-mock: port {port} on 127.0.0.1 is in use; "
        "stop what holds it or choose another with --port (--port 0 picks a free one)\n"
    )
    assert "listening" not in captured.out


@pytest.mark.parametrize(
    ("setup", "argv", "expected"),
    [
        ("config", ["--config", "{tmp}/bad.yaml"], "YAML error at line 2"),
        ("none", ["--config", "{tmp}/missing.yaml"], "config file '{tmp}/missing.yaml' does not exist"),
        ("none", ["--characters", "{tmp}/chars.yaml"], "characters file '{tmp}/chars.yaml' does not exist"),
        ("file", ["--data-dir", "{tmp}/file"], "data directory '{tmp}/file' is a file"),
        ("none", ["--rate-limit", "lots"], "--rate-limit takes N/SECONDS"),
        ("none", ["--latency", "9-1"], "--latency needs MIN <= MAX"),
        ("none", ["--cors", "http://a.test", "--no-cors"], "--cors and --no-cors contradict each other"),
    ],
)
def test_start_up_failures_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, argv: list[str], expected: str
) -> None:
    if setup == "config":
        (tmp_path / "bad.yaml").write_text("port: 8000\n  data_dir: x\n")
    if setup == "file":
        (tmp_path / "file").write_text("")
    args = ["--data-dir", str(tmp_path / "data"), *(a.replace("{tmp}", str(tmp_path)) for a in argv)]

    assert main(args) == 2

    err = capsys.readouterr().err
    assert err.startswith("a2v-mock: ")
    assert expected.replace("{tmp}", str(tmp_path)) in err
    assert err.count("\n") == 1


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("a2v-mock ")


def test_flags_set_the_scenario(tmp_path: Path, processes: list[Process]) -> None:
    cli = Process(
        tmp_path,
        "--port",
        "0",
        *FAST,
        "--url-ttl",
        "120",
        "--rate-limit",
        "5/10",
        "--latency",
        "1-2",
        "--audio-hosts",
        "127.0.0.1",
        "localhost",
    )
    processes.append(cli)
    base = cli.wait_for(LISTENING)[1]

    scenario = httpx.get(f"{base}/__admin/scenario").json()["data"]
    ping = httpx.get(f"{base}/v1/a2v/character.list", headers={"Authorization": "Bearer t"})

    assert scenario["url_ttl_seconds"] == 120
    assert scenario["rate_limit"] == {"requests": 5, "per_seconds": 10.0}
    assert scenario["latency_ms"] == {"min": 1.0, "max": 2.0}
    assert ping.headers["x-ratelimit-total"] == "5"


def test_json_logs_one_line_per_request_and_task_event(tmp_path: Path, processes: list[Process]) -> None:
    cli = Process(tmp_path, "--port", "0", *FAST, "--log-format", "json", "--test-mode")
    processes.append(cli)
    base = cli.wait_for(LISTENING)[1]
    headers = {"Authorization": "Bearer log-test"}
    body = {"model_id": "eva_a0008", "audio_url": f"{base}/samples/short.wav"}

    video_id = submit(base, headers, body)
    cli.wait_for(re.compile(r'"event":"task\.finished"'), where="err", timeout=60)
    httpx.get(f"{base}/v1/a2v/video.get", params={"video_id": video_id}, headers=headers)
    cli.wait_for(re.compile(r'"path":"/v1/a2v/video.get"'), where="err")
    cli.stop()

    lines = [json.loads(line) for line in cli.err.read_text().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    generate = next(line for line in requests if line["path"] == "/v1/a2v/video.generate")
    assert generate["status"] == 200
    assert generate["code"] == 0
    assert generate["validation"] == "ok"
    assert generate["tenant"].startswith("tok-")
    events = [line["event"] for line in lines if line.get("video_id") == video_id]
    assert events[:3] == ["task.created", "task.started", "task.finished"]
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's lines, same format
    assert "log-test" not in cli.err.read_text()


def test_reload_applies_a_changed_config_without_losing_state(
    tmp_path: Path, processes: list[Process]
) -> None:
    config = tmp_path / "a2v.yaml"
    config.write_text("error_rate: 0.0\n")
    cli = Process(tmp_path, "--port", "0", *FAST, "--config", str(config), "--reload")
    processes.append(cli)
    base = cli.wait_for(LISTENING)[1]
    headers = {"Authorization": "Bearer reload"}
    body = {"model_id": "eva_a0008", "audio_url": f"{base}/samples/short.wav"}
    video_id = submit(base, headers, body)

    time.sleep(1.1)  # a different modification time, on file systems with coarse clocks
    config.write_text("rate_limit: {requests: 7, per_seconds: 60}\njournal_size: 5\n")
    cli.wait_for(re.compile(r"reload: .* applied: rate_limit"), where="err")
    config.write_text("rate_limit: [oops\n")
    cli.wait_for(re.compile(r"reload: config file .* YAML error at line 2"), where="err")

    answer = httpx.get(f"{base}/v1/a2v/video.get", params={"video_id": video_id}, headers=headers)
    assert answer.json()["code"] == 0  # the task is still there
    assert answer.headers["x-ratelimit-total"] == "7"
    assert "journal_size only change(s) on a restart" in cli.err.read_text()


def test_reload_reads_a_changed_characters_file_and_renders_with_it(
    tmp_path: Path, processes: list[Process]
) -> None:
    characters = tmp_path / "chars.yaml"
    characters.write_text("characters:\n  robo_01: {name: Robo, gender: neutral}\n")
    cli = Process(tmp_path, "--port", "0", *FAST, "--characters", str(characters), "--reload")
    processes.append(cli)
    base = cli.wait_for(LISTENING)[1]
    headers = {"Authorization": "Bearer chars"}

    time.sleep(1.1)
    characters.write_text(
        "characters:\n  robo_01: {name: Robo, gender: neutral}\n  robo_02: {name: Robo Two, gender: male}\n"
    )
    cli.wait_for(re.compile(r"reload: .* applied: characters"), where="err")

    listed = httpx.get(f"{base}/v1/a2v/character.list", headers=headers).json()["data"]
    body = {"model_id": "robo_02", "audio_url": f"{base}/samples/short.wav"}
    video_id = submit(base, headers, body)
    cli.wait_for(re.compile(r"task finished video_id=" + video_id), where="err", timeout=60)
    assert "robo_02" in {c["model_id"] for c in listed}
