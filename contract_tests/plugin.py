"""The kit as a pytest plugin (entry point `pytest11: a2v_contract`).

Inert unless `--a2v-base-url` is given (or a programmatic run passes `KitOptions`): then it collects
the kit's check modules (`contract_tests/checks/check_*.py`), selects them with `--a2v-only` and
`--a2v-skip`, and turns their outcomes into a verdict per requirement (`contract_tests.report`).

Example, inside your own test suite::

    pytest --a2v-base-url http://127.0.0.1:8000 --a2v-api-key KEY --a2v-profile quick

and in your own tests, use the fixtures: `a2v_client`, `a2v_spec`, `a2v_audio_server`, `a2v_audio`...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import Spec, load_spec
from contract_tests.config import KitOptions, Profile
from contract_tests.report import ItemResult, KitReport, violations_in
from contract_tests.requirements import select

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from contract_tests.client import A2VClient
    from contract_tests.fixtures import AudioSource, TaskRun
    from contract_tests.servers import KitServer

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
OPTIONS_KEY = pytest.StashKey[KitOptions]()
REPORT_KEY = pytest.StashKey[KitReport]()
MARKER = "a2v_requirement"


class ProvidedOptions:
    """Registered by `contract_tests.runner.run` to hand `KitOptions` (and an ASGI app) to the plugin."""

    def __init__(self, options: KitOptions, report: KitReport) -> None:
        self.options = options
        self.report = report


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("a2v", "A2V contract kit (active only with --a2v-base-url)")
    group.addoption("--a2v-base-url", default=None, help="Base URL of the A2V implementation to check.")
    group.addoption(
        "--a2v-api-key", default=os.environ.get("A2V_API_KEY"), help="Bearer token (env A2V_API_KEY)."
    )
    group.addoption("--a2v-second-api-key", default=None, help="A second token, for tenant isolation checks.")
    group.addoption(
        "--a2v-spec", default=None, help="openapi.yaml to check against (default: the bundled one)."
    )
    group.addoption("--a2v-profile", default="quick", choices=["quick", "full"], help="How hard to fuzz.")
    group.addoption(
        "--a2v-audio-base-url", default=None, help="Where the implementation finds the audio fixtures."
    )
    group.addoption("--a2v-timeout", type=float, default=120.0, help="Seconds a task may take to end.")
    group.addoption("--a2v-seed", type=int, default=None, help="Hypothesis seed for reproducible runs.")
    group.addoption(
        "--a2v-skip", default="", help="Comma-separated groups or ids to skip (idempotency,callbacks,...)."
    )
    group.addoption("--a2v-only", default="", help="Comma-separated id globs to run (A2V-FILE-*,A2V-PING).")
    group.addoption(
        "--a2v-junit-xml", default=None, help="Write a JUnit XML file with one testcase per requirement."
    )
    group.addoption("--a2v-report-json", default=None, help="Write the per-requirement report as JSON.")


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _options_from(config: pytest.Config) -> KitOptions | None:
    provided = [p for p in config.pluginmanager.get_plugins() if isinstance(p, ProvidedOptions)]
    if provided:
        return provided[0].options
    base_url = config.getoption("a2v_base_url")
    if not base_url:
        return None
    api_key = config.getoption("a2v_api_key")
    if not api_key:
        raise pytest.UsageError("--a2v-base-url needs --a2v-api-key (or A2V_API_KEY)")
    try:
        return KitOptions(
            base_url=base_url,
            api_key=api_key,
            second_api_key=config.getoption("a2v_second_api_key"),
            spec_path=Path(config.getoption("a2v_spec")) if config.getoption("a2v_spec") else None,
            profile=config.getoption("a2v_profile"),
            audio_base_url=config.getoption("a2v_audio_base_url"),
            timeout=config.getoption("a2v_timeout"),
            seed=config.getoption("a2v_seed"),
            skip=_split(config.getoption("a2v_skip")),
            only=_split(config.getoption("a2v_only")),
            junit_xml=Path(config.getoption("a2v_junit_xml")) if config.getoption("a2v_junit_xml") else None,
            report_json=Path(config.getoption("a2v_report_json"))
            if config.getoption("a2v_report_json")
            else None,
        )
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the A2V requirement ids a contract check verifies")
    options = _options_from(config)
    if options is None:
        return
    try:
        select(options.only, options.skip)
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err
    config.stash[OPTIONS_KEY] = options
    provided = [p for p in config.pluginmanager.get_plugins() if isinstance(p, ProvidedOptions)]
    config.stash[REPORT_KEY] = provided[0].report if provided else KitReport()
    if str(CHECKS_DIR) not in config.args:
        config.args.append(str(CHECKS_DIR))


def _active(config: pytest.Config) -> bool:
    return OPTIONS_KEY in config.stash


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if not _active(parent.config):
        return None
    if file_path.parent == CHECKS_DIR and file_path.name.startswith("check_") and file_path.suffix == ".py":
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def _requirements_of(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers(MARKER):
        ids.extend(mark.args)
    return ids


def _independent(item: pytest.Item) -> bool:
    """True when the test checks every declared id on every request (the fuzzers): a violation of one id
    leaves the others verified. Otherwise a failure leaves the test's other ids unverified (blocked)."""
    return any(mark.kwargs.get("independent") for mark in item.iter_markers(MARKER))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _active(config):
        return
    options = config.stash[OPTIONS_KEY]
    chosen, skipped = select(options.only, options.skip)
    keep, drop = [], []
    for item in items:
        ids = _requirements_of(item)
        if not ids:
            keep.append(item)
            continue
        if not set(ids) & chosen:
            drop.append(item)
            continue
        if set(ids) & chosen <= skipped:
            item.add_marker(
                pytest.mark.skip(reason=f"skipped by --skip ({', '.join(sorted(set(ids) & skipped))})")
            )
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if not _active(item.config):
        return report
    ids = _requirements_of(item)
    if not ids:
        return report
    results: dict[str, ItemResult] = item.stash.setdefault(_ITEM_KEY, {})
    if report.when == "setup" and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        results["r"] = ItemResult(item.nodeid, ids, "skipped", message=str(reason).removeprefix("Skipped: "))
    elif report.failed:
        exc = call.excinfo.value if call.excinfo is not None else None
        found = violations_in(exc)
        if found:
            outcome = "blocked" if report.when == "setup" else "failed"
            message = (
                "" if outcome == "failed" else f"not checked: a shared step failed ({found[0].requirement})"
            )
            results["r"] = ItemResult(item.nodeid, ids, outcome, [v.as_dict() for v in found], message)
        elif report.when == "call" and exc is not None:
            violation = {
                "requirement": ids[0],
                "message": f"{type(exc).__name__}: {exc}"[:2000],
                "expected": "",
                "got": "",
                "curl": _curl_of(exc),
            }
            results["r"] = ItemResult(item.nodeid, ids, "failed", [violation])
        else:
            results["r"] = ItemResult(
                item.nodeid, ids, "blocked", message=f"{type(exc).__name__}: {exc}"[:500]
            )
    elif report.when == "call" and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        results["r"] = ItemResult(item.nodeid, ids, "skipped", message=str(reason).removeprefix("Skipped: "))
    elif report.when == "call" and report.passed:
        results["r"] = ItemResult(item.nodeid, ids, "passed")
    if report.when == "teardown" and "r" in results:
        result = results.pop("r")
        result.duration = round(getattr(item, "_a2v_duration", 0.0), 3)
        item.config.stash[REPORT_KEY].add(result)
    elif report.when == "call":
        item._a2v_duration = report.duration  # type: ignore[attr-defined]
    return report


_ITEM_KEY = pytest.StashKey[dict[str, ItemResult]]()


def _curl_of(exc: BaseException) -> str:
    from contract_tests.verdict import curl

    request = getattr(exc, "request", None)
    try:
        return curl(request) if request is not None else ""
    except Exception:
        return ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _active(session.config):
        return
    import time

    options = session.config.stash[OPTIONS_KEY]
    report = session.config.stash[REPORT_KEY]
    report.finished = time.time()
    if options.junit_xml is not None:
        report.write_junit(options.junit_xml)
    if options.report_json is not None:
        report.write_json(options.report_json)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not _active(config):
        return
    text = config.stash[REPORT_KEY].text()
    terminalreporter.section("A2V contract requirements")
    for line in text.splitlines():
        terminalreporter.write_line(line)


# -- fixtures (available in any session; they skip when the kit is not configured) ----------------------


@pytest.fixture(scope="session")
def a2v_options(pytestconfig: pytest.Config) -> KitOptions:
    if not _active(pytestconfig):
        pytest.skip("the A2V contract kit is not configured (pass --a2v-base-url and --a2v-api-key)")
    return pytestconfig.stash[OPTIONS_KEY]


@pytest.fixture(scope="session")
def a2v_profile(a2v_options: KitOptions) -> Profile:
    return a2v_options.profile_settings


@pytest.fixture(scope="session")
def a2v_spec(a2v_options: KitOptions) -> Spec:
    return load_spec(a2v_options.spec_path)


@pytest.fixture(scope="session")
def a2v_transport(a2v_options: KitOptions) -> Iterator[Any]:
    """An in-process transport when the run was given an ASGI app, else None (real HTTP)."""
    if a2v_options.app is None:
        yield None
        return
    from a2v_testkit import AppThread

    with AppThread(a2v_options.app) as app:
        yield app.transport()


def _client(options: KitOptions, spec: Spec, transport: Any, token: str | None) -> A2VClient:
    from contract_tests.client import A2VClient

    return A2VClient(options.base_url, token, transport=transport, timeout=30.0, spec=spec)


@pytest.fixture(scope="session")
def a2v_client(a2v_options: KitOptions, a2v_spec: Spec, a2v_transport: Any) -> Iterator[A2VClient]:
    """The reference client with the run's API key."""
    client = _client(a2v_options, a2v_spec, a2v_transport, a2v_options.api_key)
    try:
        yield client
    finally:
        if a2v_transport is None:
            client.close()


@pytest.fixture(scope="session")
def a2v_second_client(a2v_options: KitOptions, a2v_spec: Spec, a2v_transport: Any) -> Iterator[A2VClient]:
    """A client with `--second-api-key` (skips the test when none was given)."""
    if not a2v_options.second_api_key:
        pytest.skip("no --second-api-key: tenant isolation not checked")
    client = _client(a2v_options, a2v_spec, a2v_transport, a2v_options.second_api_key)
    try:
        yield client
    finally:
        if a2v_transport is None:
            client.close()


@pytest.fixture(scope="session")
def a2v_audio_server() -> Iterator[KitServer]:
    """The kit's HTTP server on 127.0.0.1: audio fixtures and a callback receiver."""
    from contract_tests.servers import kit_server

    with kit_server() as server:
        yield server


@pytest.fixture(scope="session")
def a2v_audio(a2v_options: KitOptions, a2v_spec: Spec, a2v_audio_server: KitServer) -> AudioSource:
    from contract_tests.fixtures import AudioSource

    return AudioSource(a2v_audio_server, a2v_spec, a2v_options.audio_base_url)


@pytest.fixture(scope="session")
def a2v_model_id(a2v_client: A2VClient) -> str:
    """The first character of `character.list` (what the kit generates videos with)."""
    from contract_tests.errors import A2VError
    from contract_tests.verdict import ContractViolation

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
    from contract_tests.fixtures import run_task
    from contract_tests.verdict import ContractViolation

    run = run_task(
        a2v_client,
        a2v_model_id,
        a2v_audio.fixture("speech.wav"),
        timeout=a2v_options.timeout,
        audio_seconds=a2v_audio.fixture_seconds("speech.wav"),
    )
    assert run.final is not None
    if run.final.status != "finished":
        error = run.final.error
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"a valid 1 s WAV ended in status {run.final.status!r} ({error})",
            expected="status finished",
            response=a2v_client.last_response,
        )
    return run
