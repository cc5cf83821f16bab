"""The kit finds every deliberately faulty server (and a broken spec), and names the requirement broken.

Every requirement has a fault that makes its check fail: a check never seen failing proves nothing.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from a2v_spec import load_spec, resolve_pointer, unescape
from a2v_testkit import ServerThread
from contract_tests.checks.check_spec import iter_examples
from contract_tests.requirement_ids import Req
from contract_tests.requirements import REQUIREMENTS
from tests.contract_tests.faulty.faults import FAULTS, SOCKET_FAULTS, Fault

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from mock_server.config import Settings
    from tests.contract_tests.conftest import RunKit


@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name for fault in FAULTS])
def test_kit_catches_fault(fault: Fault, run_kit: RunKit, mock_settings: Settings) -> None:
    app = fault.build(mock_settings.replace(**fault.settings))
    result = run_kit(app, only=list(fault.only), timeout=fault.timeout, seed=1, **fault.options)
    outcomes = result.report.outcomes()
    assert result.exit_code == 1, result.report.text()
    assert outcomes.get(fault.caught_by) == "failed", result.report.text()
    for rid in fault.still_passing:
        assert outcomes.get(rid) == "passed", (
            f"{rid} should not be blamed for {fault.name}:\n{result.report.text()}"
        )
    # The finding itself, never hypothesis's complaint about replaying a sequence against a live service.
    assert "Flaky" not in result.report.text(), result.report.text()


def _example_of_wrong_type(document: dict[str, Any]) -> None:
    """The first typed example of the document gets a value of another JSON type."""
    for where, schema_pointer, value in iter_examples(document):
        if "type" in resolve_pointer(document, schema_pointer):
            parent, _, key = where.rpartition("/")
            resolve_pointer(document, parent)[unescape(key)] = (
                42 if isinstance(value, dict | list | str) else "x"
            )
            return
    raise AssertionError("the spec has no typed example to break")


def _no_info(document: dict[str, Any]) -> None:
    del document["info"]


@pytest.mark.parametrize(
    ("requirement", "damage"),
    [(Req.SPEC_EXAMPLES, _example_of_wrong_type), (Req.SPEC_VALID, _no_info)],
    ids=["example-of-wrong-type", "no-info"],
)
def test_kit_catches_a_broken_spec(
    requirement: str, damage: Callable[[dict[str, Any]], None], run_kit: RunKit, tmp_path: Path
) -> None:
    document = copy.deepcopy(load_spec().document)
    damage(document)
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")

    result = run_kit(base_url="http://127.0.0.1:9", only=["A2V-SPEC-*"], spec_path=broken)

    outcomes = result.report.outcomes()
    assert outcomes[requirement] == "failed", result.report.text()
    assert set(outcomes.values()) == {"failed", "passed"}, result.report.text()


@pytest.mark.parametrize(
    ("build", "options", "caught_by", "not_blamed"), SOCKET_FAULTS, ids=[f[0].__name__ for f in SOCKET_FAULTS]
)
def test_kit_catches_fault_over_a_socket(
    build: Callable[[Settings], Any],
    options: dict[str, Any],
    caught_by: str,
    not_blamed: tuple[str, ...],
    run_kit: RunKit,
    mock_settings: Settings,
) -> None:
    """A request left without an answer is reported under its own requirement, with the time waited."""
    with ServerThread(build(mock_settings)) as server:
        result = run_kit(base_url=server.base_url, seed=1, **options)
    requirements = result.report.requirements()
    assert result.exit_code == 1, result.report.text()
    assert requirements[caught_by].outcome == "failed", result.report.text()
    assert "no answer after 1." in requirements[caught_by].violations[0].message, result.report.text()
    for rid in not_blamed:
        assert requirements[rid].outcome != "failed", result.report.text()


@pytest.mark.parametrize("faulty", [True, False], ids=["never-pending", "control"])
def test_a_pending_start_never_seen_is_inconclusive_not_passed(
    faulty: bool, run_kit: RunKit, mock_settings: Settings
) -> None:
    """ "A new task ... starts pending" and "0 when pending" pass only when a pending task was read.

    Against a service that never shows `pending` (nothing else wrong) both are inconclusive, naming the
    missing observation; the control, the same mock without the fault, passes both.
    """
    from mock_server.runtime.app import create_app
    from tests.contract_tests.faulty.faults import never_pending

    app = never_pending(mock_settings) if faulty else create_app(mock_settings)
    result = run_kit(app, only=[Req.GENERATE_READABLE, Req.LIFECYCLE_PROGRESS], seed=1)
    requirements = result.report.requirements()
    readable, progress = requirements[Req.GENERATE_READABLE], requirements[Req.LIFECYCLE_PROGRESS]
    if not faulty:
        assert result.exit_code == 0, result.report.text()
        assert (readable.outcome, progress.outcome) == ("passed", "passed")
        assert readable.evidence["started-pending"] >= 1
        return
    assert result.exit_code == 1, result.report.text()
    assert readable.outcome == "inconclusive", result.report.text()
    assert any("read at once in status pending" in note for note in readable.notes), readable.notes
    assert progress.outcome == "inconclusive", result.report.text()
    assert any("pending task's progress" in note for note in progress.notes), progress.notes
    assert result.report.coverage is not None
    assert "pending" in result.report.coverage.as_dict()["task statuses"]["never_seen"]


def test_every_requirement_has_a_fault_that_fails_it() -> None:
    caught = (
        {fault.caught_by for fault in FAULTS}
        | {f[2] for f in SOCKET_FAULTS}
        | {Req.SPEC_EXAMPLES, Req.SPEC_VALID}
    )
    assert sorted(set(REQUIREMENTS) - caught) == []


@pytest.mark.slow
def test_a_stalled_task_is_reported_once_and_blocks_the_rest(
    run_kit: RunKit, mock_settings: Settings
) -> None:
    """Against tasks that never end, the first check to wait reports it; the others do not wait again."""
    from tests.contract_tests.faulty.faults import never_ends

    result = run_kit(never_ends(mock_settings), timeout=2.0, seed=1)
    requirements = result.report.requirements()
    finishes = requirements[Req.LIFECYCLE_FINISHES]
    assert finishes.outcome == "failed", result.report.text()
    assert len([v for v in finishes.violations if "did not end within 2 s" in v.message]) == 1
    # The shared tasks wait in parallel: whichever stalls first is the one reported; the others, and
    # every check that needs a task, say they are blocked by it.
    stalled = [rid for rid, r in requirements.items() if any("stalled in status" in n for n in r.notes)]
    assert len(stalled) >= 3, result.report.text()
    for rid in (Req.ERROR_AUDIO_404, Req.ERROR_NOT_AUDIO, Req.LIFECYCLE_LIST, Req.FILE_MASK):
        assert requirements[rid].outcome in ("blocked", "inconclusive"), result.report.text()
