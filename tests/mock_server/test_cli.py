"""`a2v-mock` as a process: banner, config file, and recovery after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import yaml

from a2v_testkit import free_port
from mock_server.config import Settings
from mock_server.runtime.cli import main

from .conftest import AudioHost, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, config: Path, data_dir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir.parent / f"cli-{self.port}.log"
        args = [
            sys.executable,
            "-m",
            "mock_server.runtime.cli",
            "--port",
            str(self.port),
            "--data-dir",
            str(data_dir),
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [*args, "--config", str(config)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}/v1/ping", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(timeout=30)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mock.yaml"
    settings = {"audio_hosts": ["127.0.0.1"], "prewarm": False, "render_workers": 1, "test_mode": True}
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture
def processes() -> Iterator[list[Cli]]:
    started: list[Cli] = []
    yield started
    for cli in started:
        cli.stop(signal.SIGKILL)


def test_banner_tells_where_and_how(config: Path, tmp_path: Path, processes: list[Cli]) -> None:
    cli = Cli(config, tmp_path / "data")
    processes.append(cli)
    cli.stop()
    banner = cli.log.read_text()
    assert cli.base_url in banner
    assert str((tmp_path / "data").resolve()) in banner
    assert "curl -s -H 'Authorization: Bearer" in banner
    assert "/samples/hello.wav" in banner


def test_bad_config_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("prot: 80\n")
    assert main(["--config", str(bad)]) == 2
    assert "prot" in capsys.readouterr().err


def test_help_names_serve_and_worker_and_the_scale_extra(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    usage = out.split("\n\n", 1)[0]
    assert "a2v-mock [serve] [options]" in usage
    assert "a2v-mock worker [options]" in usage
    commands = out.split("commands:\n", 1)[1]
    assert commands.startswith("  serve ")
    assert "\n  worker " in commands
    assert "pip install 'a2v-kit[scale]'" in out


@pytest.mark.parametrize(
    ("argv", "prog", "says"),
    [
        (["--prot", "80"], "a2v-mock", "unrecognized arguments: --prot 80"),
        (["serve", "--port", "eighty"], "a2v-mock", "argument --port: invalid int value: 'eighty'"),
        (["worker", "--bogus"], "a2v-mock worker", "unrecognized arguments: --bogus"),
    ],
)
def test_a_usage_error_is_its_message_first_not_a_usage_block(
    argv: list[str], prog: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"{prog}: error: {says}", f"Run '{prog} --help' to see every option."]


def test_config_file_reads_groups_and_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "data_dir: here\nfaults: {error_rate: 0.25}\nauth: {api_keys: k}\nlimits: {max_audio_seconds: 5}\n"
    )
    settings = Settings.from_yaml(path)
    assert settings.data_dir == tmp_path / "here"
    assert settings.error_rate == 0.25
    assert settings.api_keys == ["k"]
    assert settings.limits == {"max_audio_seconds": 5}


@pytest.mark.slow
def test_tasks_survive_kill_9(
    config: Path, tmp_path: Path, audio_host: AudioHost, processes: list[Cli]
) -> None:
    data = tmp_path / "data"
    first = Cli(config, data)
    processes.append(first)
    headers = {"Authorization": "Bearer crash"}
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    ids = []
    for duration in ("1.5", "3"):
        response = httpx.post(
            f"{first.base_url}/v1/a2v/video.generate",
            json=body,
            headers={**headers, "Prefer": f"duration={duration}"},
        )
        ids.append(response.json()["data"]["video_id"])
    with httpx.Client(base_url=first.base_url, headers=headers) as client:
        wait_for(client, ids[0], ("in_progressing",), timeout=5)
    first.stop(signal.SIGKILL)
    second = Cli(config, data)
    processes.append(second)
    with httpx.Client(base_url=second.base_url, headers=headers) as client:
        videos = [wait_for(client, video_id, timeout=30) for video_id in ids]
        assert [v["status"] for v in videos] == ["finished", "finished"], videos
        assert client.get(videos[0]["video_url"]).status_code == 200
    second.stop()  # uvicorn shuts down cleanly, then re-raises SIGTERM for the exit status
    assert "Application shutdown complete" in second.log.read_text()
