"""A child server: awaited until ready, always stopped, its failure to start explained."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from a2v_testkit import serving, stop

if TYPE_CHECKING:
    from pathlib import Path

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_the_block_runs_once_ready_and_the_process_is_stopped_after() -> None:
    polls = iter([False, False, True])
    with serving(SLEEPER, ready=lambda: next(polls)) as process:
        assert process.poll() is None
    assert process.returncode is not None  # stopped and reaped


def test_a_process_that_exits_before_ready_is_named() -> None:
    args = [sys.executable, "-c", "raise SystemExit(3)"]
    with (
        pytest.raises(RuntimeError, match=r"^fake exited with status 3 before it was ready$"),
        serving(args, ready=lambda: False, name="fake"),
    ):
        pass  # pragma: no cover - never entered


def test_never_ready_times_out_and_leaves_no_process() -> None:
    started: list[subprocess.Popen[bytes]] = []
    real = subprocess.Popen

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[bytes]:
        started.append(real(*args, **kwargs))  # type: ignore[call-overload]
        return started[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess, "Popen", popen)
        with (
            pytest.raises(RuntimeError, match=r"not ready within 0\.2 s"),
            serving(SLEEPER, ready=lambda: False, timeout=0.2),
        ):
            pass  # pragma: no cover - never entered
    assert started[0].poll() is not None


def test_stop_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    flag = tmp_path / "ignoring"
    code = (
        "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)"
    )
    with serving([sys.executable, "-c", code, str(flag)], ready=flag.exists) as process:
        stop(process, grace=0.2)
        assert process.returncode == -signal.SIGKILL
