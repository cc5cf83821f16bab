"""A missing toolchain skips on a developer's machine and fails in CI; the install script is idempotent."""

from __future__ import annotations

import os
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.examples.conftest import require

if TYPE_CHECKING:
    from pathlib import Path

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "install-example-toolchains")


@pytest.mark.parametrize(
    ("ci", "outcome"),
    [
        ("true", pytest.fail.Exception),
        ("", pytest.skip.Exception),
        ("false", pytest.skip.Exception),
    ],
)
def test_a_missing_toolchain(monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]) -> None:
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="scripts/install-example-toolchains"):
        require("a2v-no-such-toolchain")


def test_a_present_toolchain_is_its_path() -> None:
    assert require("sh").endswith("/sh")


def test_the_install_script_installs_nothing_when_all_is_there(tmp_path: Path) -> None:
    for tool in ("go", "javac", "node", "curl"):
        shim = tmp_path / tool
        shim.write_text("#!/bin/sh\nexit 0\n")
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"}

    done = subprocess.run(["bash", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert "nothing to install" in done.stdout
