"""Fixtures for the interop tests: one live mock with a loopback audio host, and clients generated once.

Generation is slow (seconds per tool), so each generator runs once per session into a temporary
directory. Every test here is marked `interop` (select or skip them with `-m`) and
`xdist_group("interop")`: under `-n N --dist loadgroup` they share one worker (one generation per tool)
while the rest of the suite runs on the others.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from a2v_testkit import FileHost, speech_wav
from mock_server.testing import run_server
from tests.interop import generators

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.interop.generators import Generation


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/interop/" in item.nodeid:
            item.add_marker(pytest.mark.interop)
            item.add_marker(pytest.mark.xdist_group("interop"))


@dataclass(frozen=True)
class Live:
    """A running mock and the URL of a speech WAV it can download."""

    base_url: str
    audio_url: str


@pytest.fixture(scope="session")
def tools() -> None:
    missing = generators.missing_tools()
    if missing:
        message = f"interop tools missing: {', '.join(missing)} (scripts/test installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def live() -> Iterator[Live]:
    with FileHost() as host:
        audio_url = host.add("/speech.wav", speech_wav(1.0), "audio/wav")
        with run_server(audio_hosts=["127.0.0.1"]) as server:
            yield Live(server.base_url, audio_url)


@contextlib.contextmanager
def _importable(directory: Path) -> Iterator[None]:
    """`directory` on sys.path; the generated packages are forgotten afterwards."""
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path.remove(str(directory))
        for name in [
            m for m in sys.modules if m.split(".")[0] in (generators.OPC_PACKAGE, generators.OGP_PACKAGE)
        ]:
            del sys.modules[name]


@pytest.fixture(scope="session")
def opc(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generation]:
    """The openapi-python-client package, importable as `a2v_opc` for the session."""
    generation = generators.openapi_python_client(tmp_path_factory.mktemp("opc"))
    with _importable(generation.out):
        yield generation


@pytest.fixture(scope="session")
def ogp(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generation]:
    """The openapi-generator `python` package, importable as `a2v_ogp` for the session."""
    generation = generators.openapi_generator_python(tmp_path_factory.mktemp("ogp"))
    with _importable(generation.out):
        yield generation


@pytest.fixture(scope="session")
def ts(tools: None, tmp_path_factory: pytest.TempPathFactory) -> Generation:
    """openapi-typescript's `schema.ts` in a fresh directory."""
    return generators.openapi_typescript(tmp_path_factory.mktemp("ts"))
