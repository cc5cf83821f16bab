"""Fixtures for the kit's own tests: running the kit against the mock, in-process or over a socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests.config import KitOptions
from contract_tests.runner import KitRun, run_with_exit_code
from mock_server.config import Settings
from mock_server.scenario_values import Timings

if TYPE_CHECKING:
    from pathlib import Path

    from contract_tests.report import KitReport

RunKit = Callable[..., KitRun]
#: How long the kit's test mocks keep a task pending (see `mock_settings`).
PENDING_SECONDS = 0.5


@pytest.fixture
def mock_settings(tmp_path: Path) -> Settings:
    """Settings for one in-process mock: its own data dir, one render worker, audio from loopback only,
    and tasks that stay `pending` for half a second (the spec: "a task leaves pending within a
    second"), so the kit can observe the pending start that A2V-GENERATE-READABLE and
    A2V-LIFECYCLE-PROGRESS need; with the mock's default of 0 s no client ever reads it."""
    return Settings(
        data_dir=tmp_path / "mock-data",
        render_workers=1,
        audio_hosts=["127.0.0.1"],
        timings=Timings(pending_seconds=PENDING_SECONDS),
    )


@pytest.fixture
def run_kit() -> RunKit:
    """`run_kit(app=..., only=[...], **options)` runs the kit in-process against an ASGI app."""

    def run(app: Any = None, base_url: str = "http://testserver", **options: Any) -> KitRun:
        options.setdefault("api_key", "kit-tenant-a")
        options.setdefault("second_api_key", "kit-tenant-b")
        options.setdefault("timeout", 60.0)
        return run_with_exit_code(KitOptions(base_url=base_url, app=app, **options))

    return run


def failed(report: KitReport) -> set[str]:
    return {rid for rid, outcome in report.outcomes().items() if outcome == "failed"}
