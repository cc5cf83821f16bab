"""Fixtures for the kit's own tests: running the kit against the mock, in-process or over a socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests.config import KitOptions
from contract_tests.runner import KitRun, run_with_exit_code
from mock_server.config import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from contract_tests.report import KitReport

RunKit = Callable[..., KitRun]


@pytest.fixture
def mock_settings(tmp_path: Path) -> Settings:
    """Settings for one in-process mock: its own data dir, one render worker, audio from loopback only."""
    return Settings(data_dir=tmp_path / "mock-data", render_workers=1, audio_hosts=["127.0.0.1"])


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
