"""The CLI's usage errors and exit codes, fixtures writing, and the plugin staying inert by default."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from a2v_testkit import free_port
from contract_tests.audio import FIXTURE_FILES, decoded_duration
from contract_tests.cli import main

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "--base-url and --api-key are required"),
        (["--base-url", "http://127.0.0.1:1"], "--base-url and --api-key are required"),
        (["--base-url", "ftp://x", "--api-key", "k"], "must be an http(s) URL"),
        (["--base-url", "http://127.0.0.1:1", "--api-key", "k", "--skip", "nonsense"], "names no group"),
    ],
)
def test_usage_errors_exit_2(argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each is refused for its own reason, before the kit tries to reach the implementation (an
    unreachable base URL would also exit 2, so the message is what tells the cases apart)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err
    assert "cannot reach" not in err


def test_unreachable_implementation_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--base-url", f"http://127.0.0.1:{free_port()}", "--api-key", "k"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_list_names_every_requirement(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    assert "A2V-LIFECYCLE-FORWARD" in capsys.readouterr().out


def test_write_fixtures(tmp_path: Path) -> None:
    assert main(["--write-fixtures", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIXTURE_FILES)
    assert abs(decoded_duration((tmp_path / "speech.mp3").read_bytes()) - 1.0) < 0.01
    assert decoded_duration((tmp_path / "too_long.wav").read_bytes()) > 60


def test_plugin_is_inert_without_base_url(tmp_path: Path) -> None:
    """A session without --a2v-base-url collects only its own tests; the fixtures skip politely."""
    (tmp_path / "test_x.py").write_text(
        textwrap.dedent(
            """
            def test_mine():
                pass

            def test_uses_fixture(a2v_client):
                pass
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert "1 passed, 1 skipped" in result.stdout, result.stdout + result.stderr
    assert "not configured" in result.stdout
    assert "check_" not in result.stdout


def test_plugin_runs_the_kit_inside_another_suite(tmp_path: Path) -> None:
    """With --a2v-base-url, a team's own session runs the selected kit checks next to its own tests."""
    from mock_server.testing import run_server

    (tmp_path / "test_own.py").write_text(
        textwrap.dedent(
            """
            def test_own_check(a2v_client):
                assert a2v_client.ping().pong
            """
        )
    )
    junit = tmp_path / "kit.xml"
    with run_server(render_workers=1, prewarm=False) as server:
        result = subprocess.run(
            [
                sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path),
                "--a2v-base-url", server.base_url, "--a2v-api-key", "team-key",
                "--a2v-only", "A2V-PING,A2V-ERROR-UNKNOWN-VIDEO", "--a2v-junit-xml", str(junit),
            ],
            capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout
    assert "PASSED   A2V-PING" in result.stdout
    assert 'name="A2V-ERROR-UNKNOWN-VIDEO"' in junit.read_text()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("a2v-contract ")
