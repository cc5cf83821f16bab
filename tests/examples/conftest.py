"""Running the documentation's examples: toolchains, a compiled-Go cache, one shared live mock."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from partner.live import LiveMock

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT = 90


def require(tool: str) -> str:
    """The path of `tool`; a missing toolchain skips locally but fails in CI (CI=true), so CI can never
    pass by silently skipping the examples (`scripts/install-example-toolchains` installs them)."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool!r} is not installed; run scripts/install-example-toolchains"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: a missing toolchain is a failure)", pytrace=False)
        pytest.skip(message)
    return path


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


class Runner:
    """Runs one example file in its language; compiles each Go file once per session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._go_binaries: dict[Path, Path] = {}

    def _go_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "GOCACHE": str(self.workdir / "go-cache"),
            "GOPATH": str(self.workdir / "go-path"),
            "GO111MODULE": "off",
            "GOFLAGS": "",
            "CGO_ENABLED": "0",
        }

    def _go_binary(self, source: Path) -> Path:
        if source not in self._go_binaries:
            go = require("go")
            binary = self.workdir / "go-bin" / source.stem
            built = subprocess.run(
                [go, "build", "-o", str(binary), str(source)],
                env=self._go_env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if built.returncode != 0:
                pytest.fail(f"go build {source.name} failed:\n{built.stderr}", pytrace=False)
            self._go_binaries[source] = binary
        return self._go_binaries[source]

    def command(self, language: str, source: Path) -> list[str]:
        if language == "curl":
            require("curl")
            return [require("sh"), str(source)]
        if language == "python":
            return [sys.executable, str(source)]
        if language == "golang":
            return [str(self._go_binary(source))]
        if language == "javascript":
            return [require("node"), str(source)]
        if language == "java":
            return [require("java"), str(source)]
        raise ValueError(f"no runner for language {language!r}")

    def run(self, language: str, source: Path, env: dict[str, str]) -> Result:
        command = self.command(language, source)
        full_env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env}
        done = subprocess.run(
            command,
            env=full_env,
            cwd=source.parent,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def example_runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    return Runner(tmp_path_factory.mktemp("examples"))


@pytest.fixture(scope="session")
def example_mock() -> Iterator[LiveMock]:
    """One live mock for every example (they only read or add their own tenant's videos)."""
    from partner.live import LiveMock

    with LiveMock(render_workers=1) as live:
        yield live
