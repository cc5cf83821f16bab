"""The kit's pytest fixtures, for its own checks and for a team's tests run next to them.

All are session-scoped and skip the test when the kit is not configured (no `--a2v-base-url`), so a
suite that merely has the plugin installed is not disturbed; what they need (PyAV, uvicorn, the client)
is imported when a fixture is first used, not when pytest loads the plugin.

    a2v_options          the run's `KitOptions`
    a2v_profile          how hard to fuzz (`Profile`)
    a2v_spec             the parsed spec the implementation is checked against
    a2v_transport        an in-process transport to the run's ASGI app, else None (real HTTP)
    a2v_watch            what the clients notice on every exchange (timing, video.get's answer)
    a2v_pacer            paces the clients by X-Ratelimit-Left/Reset, counts and caps the requests
    a2v_client           the reference client with the run's key
    a2v_second_client    the reference client with the second key (skips without one)
    a2v_audio_server     the kit's HTTP server on 127.0.0.1 (audio fixtures, callback receiver)
    a2v_audio            audio URLs the implementation can download (`AudioSource`)
    a2v_model_id         the first character of `character.list`
    a2v_finished_task    one WAV task taken from generate to `finished`, every state observed
    a2v_stalls           the run's first stalled task (later task checks are blocked by it)
    a2v_tasks            the shared tasks, started together at the first check, polled in parallel
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from a2v_spec import Spec, Status, load_spec
from contract_tests import stash
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions, Profile
    from contract_tests.pacing import Pacer
    from contract_tests.servers import KitServer
    from contract_tests.task_pool import TaskPool
    from contract_tests.task_run import Stalls, TaskRun
    from contract_tests.watch import Watch

__all__ = [
    "a2v_audio",
    "a2v_audio_server",
    "a2v_client",
    "a2v_finished_task",
    "a2v_model_id",
    "a2v_options",
    "a2v_pacer",
    "a2v_profile",
    "a2v_second_client",
    "a2v_spec",
    "a2v_stalls",
    "a2v_tasks",
    "a2v_transport",
    "a2v_watch",
    "submit_task",
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
    options: KitOptions,
    spec: Spec,
    transport: httpx.BaseTransport | None,
    token: str,
    watch: Watch,
    pacer: Pacer,
) -> Iterator[A2VClient]:
    from contract_tests.client import A2VClient

    client = A2VClient(
        options.base_url,
        token,
        transport=transport,
        timeout=options.request_timeout,
        spec=spec,
        # Pace first (it may wait for a new window), then stamp the time the request really left.
        event_hooks={
            "request": [*pacer.hooks["request"], *watch.hooks["request"]],
            "response": [*pacer.hooks["response"], *watch.hooks["response"]],
        },
    )
    try:
        yield client
    finally:
        if transport is None:  # the transport fixture closes the in-process one
            client.close()


@pytest.fixture(scope="session")
def a2v_watch(pytestconfig: pytest.Config, a2v_spec: Spec) -> Watch:
    """What the kit's clients notice on every exchange; findings go straight to the run's report."""
    from contract_tests.coverage import Coverage
    from contract_tests.watch import Watch

    report = pytestconfig.stash[stash.REPORT]
    report.coverage = Coverage.of(a2v_spec)
    return Watch(a2v_spec, report.add_finding, report.coverage)


@pytest.fixture(scope="session")
def a2v_pacer(pytestconfig: pytest.Config, a2v_options: KitOptions) -> Iterator[Pacer]:
    """Paces every client of the run by the service's rate-limit headers; counts and caps requests."""
    from contract_tests.pacing import Pacer

    pacer = Pacer(a2v_options.max_requests)
    yield pacer
    pytestconfig.stash[stash.REPORT].traffic.update(
        requests=pacer.sent, answered_429=pacer.rate_limited, waited_for_windows=round(pacer.waited, 1)
    )


@pytest.fixture(scope="session")
def a2v_client(
    a2v_options: KitOptions,
    a2v_spec: Spec,
    a2v_transport: httpx.BaseTransport | None,
    a2v_watch: Watch,
    a2v_pacer: Pacer,
) -> Iterator[A2VClient]:
    """The reference client with the run's API key."""
    yield from _client(a2v_options, a2v_spec, a2v_transport, a2v_options.api_key, a2v_watch, a2v_pacer)


@pytest.fixture(scope="session")
def a2v_second_client(
    a2v_options: KitOptions,
    a2v_spec: Spec,
    a2v_transport: httpx.BaseTransport | None,
    a2v_watch: Watch,
    a2v_pacer: Pacer,
) -> Iterator[A2VClient]:
    """A client with `--second-api-key` (skips the test when none was given)."""
    if not a2v_options.second_api_key:
        pytest.skip("no --second-api-key: tenant isolation not checked")
    token = a2v_options.second_api_key
    yield from _client(a2v_options, a2v_spec, a2v_transport, token, a2v_watch, a2v_pacer)


@pytest.fixture(scope="session")
def a2v_audio_server(a2v_options: KitOptions) -> Iterator[KitServer]:
    """The kit's HTTP server (audio fixtures and a callback receiver): on 127.0.0.1, or `--listen`,
    handing out `--public-url`."""
    from contract_tests.servers import kit_server

    with kit_server(a2v_options.listen, a2v_options.public_url) as server:
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
            Req.CHARACTERS, f"character.list failed: {err}", response=err.response
        ) from err
    if not characters:
        raise ContractViolation(
            Req.CHARACTERS, "character.list returned no character", response=a2v_client.last_response
        )
    return characters[0].model_id


@pytest.fixture(scope="session")
def a2v_stalls() -> Stalls:
    """The run's first stalled task: reported once, every later task check blocked by it."""
    from contract_tests.task_run import Stalls

    return Stalls()


def _callbacks_reachable(options: KitOptions) -> bool:
    """The implementation can call the kit back unless its audio comes from elsewhere and no public
    URL for the kit's server was given."""
    return options.audio_base_url is None or options.public_url is not None


def submit_task(pool: TaskPool, name: str, options: KitOptions, audio: AudioSource, model_id: str) -> None:
    """Start one of the shared tasks (`task_pool.TASKS_FOR`) by name, with its callback receiver."""
    import secrets

    if pool.submitted(name):
        return
    callback_url = None
    if name in ("finished", "missing") and _callbacks_reachable(options) and "callbacks" not in options.skip:
        key = secrets.token_hex(8)
        pool.callback_keys[name] = key
        server = audio.server
        callback_url = server.callback_url(key) if name == "finished" else server.flaky_callback_url(key)
    if name == "finished":
        url, seconds = audio.fixture("speech.wav"), audio.fixture_seconds("speech.wav")
    elif name == "missing":
        url, seconds = audio.missing(), None
    elif name == "unreachable":
        url, seconds = audio.unreachable(), None
    else:
        url, seconds = audio.fixture(name), None
    pool.submit(name, model_id, url, audio_seconds=seconds, callback_url=callback_url)


@pytest.fixture(scope="session")
def a2v_tasks(
    pytestconfig: pytest.Config,
    a2v_options: KitOptions,
    a2v_client: A2VClient,
    a2v_audio: AudioSource,
    a2v_stalls: Stalls,
) -> Iterator[TaskPool]:
    """The run's shared tasks, all started together as early as possible and polled in parallel.

    Started when the first check runs (for the requirements the run selected); a broken
    `character.list` leaves them to be started, and fail, in the checks that need them.
    """
    from contract_tests.requirements import select
    from contract_tests.task_pool import TaskPool, tasks_for

    pool = TaskPool(a2v_client, a2v_stalls, a2v_options.timeout)
    chosen, skipped = select(a2v_options.only, a2v_options.skip)
    try:
        model_id = a2v_client.list_characters()[0].model_id
    except Exception:
        model_id = None
    if model_id is not None:
        for name in tasks_for(chosen - skipped):
            submit_task(pool, name, a2v_options, a2v_audio, model_id)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def a2v_finished_task(
    a2v_options: KitOptions, a2v_tasks: TaskPool, a2v_audio: AudioSource, a2v_model_id: str
) -> TaskRun:
    """One WAV fixture taken from generate to its end; the checks of files and shapes read it."""
    submit_task(a2v_tasks, "finished", a2v_options, a2v_audio, a2v_model_id)
    run = a2v_tasks.result("finished")
    if run.final.status is not Status.FINISHED:
        raise ContractViolation(
            Req.LIFECYCLE_FINISHES,
            f"a valid 1 s WAV ended in status {run.final.status!r} ({run.final.error})",
            expected=f"status {Status.FINISHED}",
            curl_command=f'curl -i -H "Authorization: Bearer $A2V_TOKEN" '
            f"'{a2v_options.base_url}/v1/a2v/video.get?video_id={run.video_id}'",
        )
    return run
