"""The kit finds every deliberately faulty server, and names the requirement the fault breaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.contract_tests.faulty.faults import FAULTS, Fault

if TYPE_CHECKING:
    from mock_server.config import Settings
    from tests.contract_tests.conftest import RunKit


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_kit_catches_fault(fault: Fault, run_kit: RunKit, mock_settings: Settings) -> None:
    app = fault.build(mock_settings.replace(**fault.settings))
    result = run_kit(app, only=list(fault.only), timeout=fault.timeout, seed=1)
    outcomes = result.report.outcomes()
    assert result.exit_code == 1, result.report.text()
    assert outcomes.get(fault.caught_by) == "failed", result.report.text()
    for rid in fault.still_passing:
        assert outcomes.get(rid) == "passed", (
            f"{rid} should not be blamed for {fault.name}:\n{result.report.text()}"
        )
