"""`a2v-mock` on a default install (no `scale` extra): the scaled-out flags and `a2v-mock worker` say
in one line which extra to install, instead of a traceback about `psycopg` or `celery`.

A default install is simulated in a child process: a `sitecustomize` on its path puts a finder first on
`sys.meta_path` that refuses the extra's packages, as if they had never been installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mock_server.config import SCALE_EXTRA, SCALE_MODULES, Settings, missing_scale_extra

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[2]

BLOCKER = """
import sys

BLOCKED = {blocked!r}


class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


def _default_install(
    tmp_path: Path, extra_env: dict[str, str] | None = None
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `a2v-mock ARGS` where none of the scale extra's packages can be imported."""
    blocked = sorted({m for modules in SCALE_MODULES.values() for m in modules})
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER.format(blocked=blocked))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    env = {k: v for k, v in env.items() if not k.startswith("A2V_")} | (extra_env or {})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mock_server.runtime.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )

    return run


def test_the_blocker_really_hides_the_extra(tmp_path: Path) -> None:
    """The control: without it the tests below could pass on an install that has the extra."""
    run = _default_install(tmp_path)
    site = tmp_path / "site"
    probe = subprocess.run(
        [sys.executable, "-c", "import celery"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=60,
    )
    assert probe.returncode == 1
    assert "No module named 'celery'" in probe.stderr
    assert run("--version").returncode == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["worker", "--store", "postgresql://db/a2v", "--queue", "amqp://mq/a2v", "--files", "s3://b/p"],
         "--store, --queue and --files need"),
        (["--store", "postgresql://db/a2v", "--port", "0", "--data-dir", "data"], "--store needs"),
        (["serve", "--files", "s3://bucket/prefix", "--port", "0", "--data-dir", "data"], "--files needs"),
    ],
)  # fmt: skip
def test_a_scaled_out_setting_without_the_extra_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], named: str
) -> None:
    result = _default_install(tmp_path)(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert SCALE_EXTRA in lines[0]
    assert "Traceback" not in result.stderr


def test_worker_help_works_without_the_extra_and_names_it(tmp_path: Path) -> None:
    result = _default_install(tmp_path)("worker", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "a2v-kit[scale]" in " ".join(result.stdout.split())


def test_worker_with_the_settings_in_the_environment_names_the_extra(tmp_path: Path) -> None:
    """The same through `A2V_*` variables, as a container would start it."""
    env = {"A2V_STORE": "postgresql://db/a2v", "A2V_QUEUE": "amqp://mq/a2v", "A2V_FILES": "s3://bucket/p"}
    result = _default_install(tmp_path, env)("worker")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert SCALE_EXTRA in result.stderr


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (Settings(), None),
        (Settings(store="postgresql://db/a2v"), None),  # installed here: the test extra includes it
    ],
)
def test_nothing_is_reported_when_the_extra_is_installed(settings: Settings, expected: str | None) -> None:
    assert missing_scale_extra(settings) == expected
