"""The kit's pytest hooks: options, which checks to collect, and from test outcomes to the report.

Inert unless `--a2v-base-url` is given (or a programmatic run registers `ProvidedOptions`): then the
hooks collect the kit's check modules (`contract_tests/checks/check_*.py`), select them with
`--a2v-only` and `--a2v-skip`, turn each test's outcome into an `ItemResult` kept in the item's stash,
and at the end of the session write the per-requirement report (text, JSON, JUnit XML, HTML).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests import stash
from contract_tests.clocks import WAITS_MARKER, run_waiting_checks_last
from contract_tests.config import KitOptions
from contract_tests.evidence import Blocked, Unobserved, recording
from contract_tests.report import ItemResult, KitReport, Outcome
from contract_tests.requirements import select
from contract_tests.violations import Violation, curl, violations_in
from contract_tests.watch import answer_in_time, timeout_in

if TYPE_CHECKING:
    from collections.abc import Generator

__all__ = ["CHECKS_DIR", "MARKER", "ProvidedOptions"]

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
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
    group.addoption(
        "--a2v-second-api-key",
        default=os.environ.get("A2V_SECOND_API_KEY"),
        help="A second token, for tenant isolation checks (env A2V_SECOND_API_KEY).",
    )
    group.addoption(
        "--a2v-spec", default=None, help="openapi.yaml to check against (default: the bundled one)."
    )
    group.addoption(
        "--a2v-profile", default="quick", choices=["quick", "service", "full"], help="How hard to fuzz."
    )
    group.addoption(
        "--a2v-audio-base-url", default=None, help="Where the implementation finds the audio fixtures."
    )
    group.addoption("--a2v-timeout", type=float, default=120.0, help="Seconds a task may take to end.")
    group.addoption(
        "--a2v-request-timeout", type=float, default=30.0, help="Seconds one request may wait for its answer."
    )
    group.addoption("--a2v-seed", type=int, default=None, help="Hypothesis seed for reproducible runs.")
    group.addoption(
        "--a2v-max-requests", type=int, default=None, help="Stop after N requests to the service."
    )
    group.addoption("--a2v-listen", default=None, help="HOST:PORT the kit's own server listens on.")
    group.addoption("--a2v-public-url", default=None, help="The URL the implementation reaches it at.")
    group.addoption(
        "--a2v-provoke-429", action="store_true", default=False, help="Opt-in: check 429 + Retry-After."
    )
    group.addoption(
        "--a2v-skip", default="", help="Comma-separated groups or ids to skip (idempotency,callbacks,...)."
    )
    group.addoption("--a2v-only", default="", help="Comma-separated id globs to run (A2V-FILE-*,A2V-PING).")
    group.addoption(
        "--a2v-junit-xml", default=None, help="Write a JUnit XML file with one testcase per requirement."
    )
    group.addoption("--a2v-report-json", default=None, help="Write the per-requirement report as JSON.")
    group.addoption(
        "--a2v-report-html", default=None, help="Write a self-contained HTML conformance report to share."
    )


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _provided(config: pytest.Config) -> ProvidedOptions | None:
    found = [p for p in config.pluginmanager.get_plugins() if isinstance(p, ProvidedOptions)]
    return found[0] if found else None


def _path_option(config: pytest.Config, name: str) -> Path | None:
    value = config.getoption(name)
    return Path(value) if value else None


def _options_from(config: pytest.Config) -> KitOptions | None:
    provided = _provided(config)
    if provided is not None:
        return provided.options
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
            spec_path=_path_option(config, "a2v_spec"),
            profile=config.getoption("a2v_profile"),
            audio_base_url=config.getoption("a2v_audio_base_url"),
            timeout=config.getoption("a2v_timeout"),
            request_timeout=config.getoption("a2v_request_timeout"),
            max_requests=config.getoption("a2v_max_requests"),
            provoke_429=config.getoption("a2v_provoke_429"),
            listen=config.getoption("a2v_listen"),
            public_url=config.getoption("a2v_public_url"),
            seed=config.getoption("a2v_seed"),
            skip=_split(config.getoption("a2v_skip")),
            only=_split(config.getoption("a2v_only")),
            junit_xml=_path_option(config, "a2v_junit_xml"),
            report_json=_path_option(config, "a2v_report_json"),
            report_html=_path_option(config, "a2v_report_html"),
        )
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the A2V requirement ids a contract check verifies")
    config.addinivalue_line("markers", f"{WAITS_MARKER}: waits for a clock started with the run; runs last")
    options = _options_from(config)
    if options is None:
        return
    try:
        select(options.only, options.skip)
    except ValueError as err:
        raise pytest.UsageError(str(err)) from err
    config.stash[stash.OPTIONS] = options
    provided = _provided(config)
    report = provided.report if provided is not None else KitReport()
    report.identify(options.base_url, options.spec_path)
    config.stash[stash.REPORT] = report
    if str(CHECKS_DIR) not in config.args:
        config.args.append(str(CHECKS_DIR))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    if not stash.active(parent.config):
        return None
    if file_path.parent == CHECKS_DIR and file_path.name.startswith("check_") and file_path.suffix == ".py":
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def _requirements_of(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers(MARKER):
        ids.extend(mark.args)
    return ids


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not stash.active(config):
        return
    options = config.stash[stash.OPTIONS]
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
    run_waiting_checks_last(items)


def _skip_reason(report: pytest.TestReport) -> str:
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return str(reason).removeprefix("Skipped: ")


def _result_of(
    item: pytest.Item, ids: list[str], report: pytest.TestReport, exc: BaseException | None
) -> ItemResult | None:
    """The test's result as this phase decides it, or None when the phase decides nothing.

    A violation found in setup (a shared fixture) blocks the test's own ids and fails the id it names;
    any other error in setup or teardown is the kit's own trouble, so the ids are blocked, not failed.
    """
    if report.skipped and report.when in ("setup", "call"):
        return ItemResult(item.nodeid, ids, Outcome.SKIPPED, message=_skip_reason(report))
    if report.failed and isinstance(exc, Blocked):
        return ItemResult(item.nodeid, ids, Outcome.BLOCKED, message=exc.reason)
    if report.failed:
        unobserved = _unobserved_in(exc)
        if unobserved is not None and report.when == "call":
            evidence = item.config.stash[stash.REPORT].evidence
            evidence.could_not_judge(unobserved.requirement, unobserved.sentence)
            message = f"not judged ({unobserved.requirement}): {unobserved.sentence}"
            return ItemResult(item.nodeid, ids, Outcome.INCONCLUSIVE, message=message)
        found = [v.violation for v in violations_in(exc)]
        timeout = timeout_in(exc)
        if not found and timeout is not None:
            # No answer in time is a finding of its own, never a 5xx nor a bug of the check.
            found = [answer_in_time(timeout).violation]
        if found and report.when == "setup":
            message = f"not checked: a shared step failed ({found[0].requirement})"
            return ItemResult(item.nodeid, ids, Outcome.BLOCKED, found, message)
        if found:
            return ItemResult(item.nodeid, ids, Outcome.FAILED, found)
        if report.when == "call" and exc is not None:
            # An assertion or error inside the check itself: charged to the test's first id.
            violation = Violation(ids[0], f"{type(exc).__name__}: {exc}"[:2000], curl=_curl_of(exc))
            return ItemResult(item.nodeid, ids, Outcome.FAILED, [violation])
        return ItemResult(item.nodeid, ids, Outcome.BLOCKED, message=f"{type(exc).__name__}: {exc}"[:500])
    if report.when == "call" and report.passed:
        return ItemResult(item.nodeid, ids, Outcome.PASSED)
    return None


def _unobserved_in(exc: BaseException | None) -> Unobserved | None:
    if isinstance(exc, Unobserved):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _unobserved_in(inner)
            if found is not None:
                return found
    return None


def _curl_of(exc: BaseException) -> str:
    request = getattr(exc, "request", None)
    try:
        return curl(request) if request is not None else ""
    except Exception:
        return ""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if not stash.active(item.config):
        return report
    ids = _requirements_of(item)
    if not ids:
        return report
    exc = call.excinfo.value if call.excinfo is not None else None
    result = _result_of(item, ids, report, exc)
    if result is not None:
        item.stash[stash.RESULT] = result
    if report.when == "call":
        item.stash[stash.CALL_DURATION] = report.duration
    if report.when == "teardown" and stash.RESULT in item.stash:
        final = item.stash[stash.RESULT]
        duration: float = item.stash.get(stash.CALL_DURATION, 0.0)
        final.duration = round(duration, 3)
        item.config.stash[stash.REPORT].add(final)
    return report


def pytest_sessionstart(session: pytest.Session) -> None:
    """Record observations (`contract_tests.evidence`) into the report for the whole session."""
    if not stash.active(session.config):
        return
    stack = contextlib.ExitStack()
    stack.enter_context(recording(session.config.stash[stash.REPORT].evidence))
    session.config.stash[stash.RECORDING] = stack


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not stash.active(session.config):
        return
    if stash.RECORDING in session.config.stash:
        session.config.stash[stash.RECORDING].close()
    options = session.config.stash[stash.OPTIONS]
    report = session.config.stash[stash.REPORT]
    report.finished = time.time()
    if options.junit_xml is not None:
        report.write_junit(options.junit_xml)
    if options.report_json is not None:
        report.write_json(options.report_json)
    if options.report_html is not None:
        report.write_html(options.report_html)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not stash.active(config):
        return
    terminalreporter.section("A2V contract requirements")
    for line in config.stash[stash.REPORT].text().splitlines():
        terminalreporter.write_line(line)
