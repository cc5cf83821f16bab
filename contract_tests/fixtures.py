"""The kit's pytest fixtures, for its own checks and for a team's tests run next to them.

All are session-scoped and skip the test when the kit is not configured (no `--a2v-base-url`), so a
suite that merely has the plugin installed is not disturbed; what they need (PyAV, uvicorn, the client)
is imported when a fixture is first used, not when pytest loads the plugin.

    a2v_options          the run's `KitOptions`
    a2v_profile          how hard to fuzz (`Profile`)
    a2v_spec             the parsed spec the implementation is checked against
    a2v_transport        an in-process transport to the run's ASGI app, else None (real HTTP)
    a2v_client           the reference client with the run's key
    a2v_second_client    the reference client with the second key (skips without one)
    a2v_audio_server     the kit's HTTP server on 127.0.0.1 (audio fixtures, callback receiver)
    a2v_audio            audio URLs the implementation can download (`AudioSource`)
    a2v_model_id         the first character of `character.list`
    a2v_finished_task    one WAV task taken from generate to `finished`, every state observed
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from a2v_spec import Spec, Status, load_spec
from contract_tests import stash
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions, Profile
    from contract_tests.servers import KitServer
    from contract_tests.task_run import TaskRun

__all__ = [
    "a2v_audio",
    "a2v_audio_server",
    "a2v_client",
    "a2v_finished_task",
    "a2v_model_id",
    "a2v_options",
    "a2v_profile",
    "a2v_second_client",
    "a2v_spec",
    "a2v_transport",
]


@pytest.fixture(scope="session")
def a2v_options(pytestconfig: pytest.Config) -> KitOptions:
    if not stash.active(pytestconfig):
        pytest.skip("the A2V contract kit is not configured (pass --a2v-base-url and --a2v-api-key)")
    return pytestconfig.stash[stash.OPTIONS]


@pytest.fixture(scope="session")
def a2v_profile(a2v_options: KitOptions) -> Profile:
    return a2v_options.profile_settings


@pytest.fixture(scope="session")
def a2v_spec(a2v_options: KitOptions) -> Spec:
    return load_spec(a2v_options.spec_path)


@pytest.fixture(scope="session")
def a2v_transport(a2v_options: KitOptions) -> Iterator[httpx.BaseTransport | None]:
    """An in-process transport when the run was given an ASGI app, else None (real HTTP)."""
    if a2v_options.app is None:
        yield None
        return
    from a2v_testkit import AppThread

    with AppThread(a2v_options.app) as app:
        yield app.transport()


def _client(
    options: KitOptions, spec: Spec, transport: httpx.BaseTransport | None, token: str
) -> Iterator[A2VClient]:
    from contract_tests.client import A2VClient

    client = A2VClient(options.base_url, token, transport=transport, timeout=30.0, spec=spec)
    try:
        yield client
    finally:
        if transport is None:  # the transport fixture closes the in-process one
            client.close()


@pytest.fixture(scope="session")
def a2v_client(
    a2v_options: KitOptions, a2v_spec: Spec, a2v_transport: httpx.BaseTransport | None
) -> Iterator[A2VClient]:
    """The reference client with the run's API key."""
    yield from _client(a2v_options, a2v_spec, a2v_transport, a2v_options.api_key)


@pytest.fixture(scope="session")
def a2v_second_client(
    a2v_options: KitOptions, a2v_spec: Spec, a2v_transport: httpx.BaseTransport | None
) -> Iterator[A2VClient]:
    """A client with `--second-api-key` (skips the test when none was given)."""
    if not a2v_options.second_api_key:
        pytest.skip("no --second-api-key: tenant isolation not checked")
    yield from _client(a2v_options, a2v_spec, a2v_transport, a2v_options.second_api_key)


@pytest.fixture(scope="session")
def a2v_audio_server() -> Iterator[KitServer]:
    """The kit's HTTP server on 127.0.0.1: audio fixtures and a callback receiver."""
    from contract_tests.servers import kit_server

    with kit_server() as server:
        yield server


@pytest.fixture(scope="session")
def a2v_audio(a2v_options: KitOptions, a2v_spec: Spec, a2v_audio_server: KitServer) -> AudioSource:
    from contract_tests.audio_source import AudioSource

    return AudioSource(a2v_audio_server, a2v_spec, a2v_options.audio_base_url)


@pytest.fixture(scope="session")
def a2v_model_id(a2v_client: A2VClient) -> str:
    """The first character of `character.list` (what the kit generates videos with)."""
    from contract_tests.errors import A2VError

    try:
        characters = a2v_client.list_characters()
    except A2VError as err:
        raise ContractViolation(
            "A2V-CHARACTERS", f"character.list failed: {err}", response=err.response
        ) from err
    if not characters:
        raise ContractViolation(
            "A2V-CHARACTERS", "character.list returned no character", response=a2v_client.last_response
        )
    return characters[0].model_id


@pytest.fixture(scope="session")
def a2v_finished_task(
    a2v_options: KitOptions, a2v_client: A2VClient, a2v_audio: AudioSource, a2v_model_id: str
) -> TaskRun:
    """One WAV fixture taken from generate to its end; the checks of files and shapes read it."""
    from contract_tests.task_run import run_task

    run = run_task(
        a2v_client,
        a2v_model_id,
        a2v_audio.fixture("speech.wav"),
        timeout=a2v_options.timeout,
        audio_seconds=a2v_audio.fixture_seconds("speech.wav"),
    )
    if run.final.status is not Status.FINISHED:
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"a valid 1 s WAV ended in status {run.final.status!r} ({run.final.error})",
            expected=f"status {Status.FINISHED}",
            response=a2v_client.last_response,
        )
    return run
