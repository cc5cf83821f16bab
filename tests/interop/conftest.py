"""Fixtures for the interop tests: one live mock with a loopback audio host, and clients generated once.

Generation and compilation are slow (5 to 60 s per tool), so each generator runs once per session
into a temporary directory, and its client is compiled once. Every test here is marked `interop`
(select or skip them with `-m`) and `xdist_group("interop-<module>")`: under `-n N --dist loadgroup`
the tests of one tool share a worker (one generation per tool) and the tools spread over the workers.
A tool that is not installed skips its own tests (fails them in CI).
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
from tests.interop import builds, generators

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.interop.builds import Build
    from tests.interop.generators import Generation


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/interop/" in item.nodeid:
            module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
            item.add_marker(pytest.mark.interop)
            item.add_marker(pytest.mark.xdist_group(f"interop-{module}"))


@dataclass(frozen=True)
class Live:
    """A running mock and the URL of a speech WAV it can download."""

    base_url: str
    audio_url: str


def require(*names: str) -> None:
    """Skip (fail in CI) unless the named tools of `generators.missing_tools` are installed."""
    missing = generators.missing_tools(names)
    if missing:
        message = f"interop tools missing: {', '.join(missing)} (scripts/test installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def tools() -> None:
    """The tools of the first four generators and the pattern dialects (node, Java)."""
    require(
        "openapi-python-client",
        "openapi-generator-cli",
        "java",
        "node",
        "openapi-typescript",
        "tsc",
        "openapi-fetch",
    )


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


@dataclass(frozen=True)
class Client:
    """A generated client and its compiled flow."""

    generation: Generation
    build: Build


@pytest.fixture(scope="session")
def go_client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """openapi-generator `go` (default options), built with Debian's Go and Go packages, offline."""
    require("openapi-generator-cli", "java", "go", "Debian gopkg.in/validator.v2")
    work = tmp_path_factory.mktemp("go")
    generation = generators.openapi_generator_go(work)
    return Client(generation, builds.build_go(generation, work))


@pytest.fixture(scope="session")
def java_client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """openapi-generator `java` (native), compiled with javac against Debian's jars."""
    require(
        "openapi-generator-cli", "java", "javac", *(f"Debian {jar}.jar" for jar in generators.DEBIAN_JARS)
    )
    work = tmp_path_factory.mktemp("java")
    generation = generators.openapi_generator_java(work)
    return Client(generation, builds.build_java(generation, work))


@pytest.fixture(scope="session")
def typescript_fetch_client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """openapi-generator `typescript-fetch`, compiled with tsc --strict."""
    require("openapi-generator-cli", "java", "node", "tsc")
    generation = generators.openapi_generator_typescript_fetch(tmp_path_factory.mktemp("tsf"))
    build = builds.build_typescript(
        generation, "typescript_fetch", ["index.ts", "runtime.ts", "apis", "models"]
    )
    return Client(generation, build)


@pytest.fixture(scope="session")
def hey_api_client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """@hey-api/openapi-ts's SDK, compiled with tsc --strict."""
    require("node", "tsc", "@hey-api/openapi-ts")
    generation = generators.hey_api(tmp_path_factory.mktemp("hey"))
    build = builds.build_typescript(generation, "hey_api", ["*.gen.ts", "index.ts", "client", "core"])
    return Client(generation, build)


@pytest.fixture(scope="session")
def zod_client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    """openapi-zod-client's Zodios client, compiled with tsc --strict."""
    require("node", "tsc", "openapi-zod-client", "@zodios/core")
    generation = generators.openapi_zod_client(tmp_path_factory.mktemp("zod"))
    return Client(generation, builds.build_typescript(generation, "zod", ["client.ts"]))


@pytest.fixture(scope="session")
def datamodel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generation]:
    """datamodel-code-generator's pydantic models, importable as `a2v_datamodel` for the session."""
    require("datamodel-codegen")
    generation = generators.datamodel_code_generator(tmp_path_factory.mktemp("datamodel"))
    sys.path.insert(0, str(generation.out))
    try:
        yield generation
    finally:
        sys.path.remove(str(generation.out))
        sys.modules.pop(generators.DATAMODEL_MODULE, None)
