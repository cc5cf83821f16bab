"""How test outcomes become one verdict per requirement, and how the JUnit XML names them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import httpx
import pytest

from contract_tests.report import ItemResult, KitReport, Outcome
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation, Violation, violations_in

if TYPE_CHECKING:
    from pathlib import Path


PASSED, FAILED, BLOCKED, SKIPPED = Outcome.PASSED, Outcome.FAILED, Outcome.BLOCKED, Outcome.SKIPPED


def violation(rid: str) -> Violation:
    return Violation(rid, f"{rid} broken", expected="x", got="y", curl="curl ...")


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([ItemResult("t1", ["A", "B"], PASSED)], {"A": "passed", "B": "passed"}),
        # A failed test verified its other ids...
        ([ItemResult("t1", ["A", "B"], FAILED, [violation("A")])], {"A": "failed", "B": "passed"}),
        # ...a blocked one did not; a violation it saw still fails the id it names.
        ([ItemResult("t1", ["B"], BLOCKED, [violation("A")])], {"A": "failed", "B": "blocked"}),
        # Failed anywhere is failed; skipped only when nothing checked it.
        (
            [ItemResult("t1", ["A"], PASSED), ItemResult("t2", ["A"], FAILED, [violation("A")])],
            {"A": "failed"},
        ),
        (
            [ItemResult("t1", ["A"], SKIPPED, message="no key"), ItemResult("t2", ["A"], PASSED)],
            {"A": "passed"},
        ),
        ([ItemResult("t1", ["A"], SKIPPED, message="no key")], {"A": "skipped"}),
    ],
)
def test_outcomes(items: list[ItemResult], expected: dict[str, str]) -> None:
    report = KitReport(items=items)
    assert report.outcomes() == expected
    assert report.conforms == all(v in (PASSED, SKIPPED) for v in expected.values())


def test_junit_has_one_testcase_per_requirement(tmp_path: Path) -> None:
    report = KitReport(
        items=[
            ItemResult("t1", [Req.PING], PASSED),
            ItemResult("t2", [Req.FILE_RANGE], FAILED, [violation(Req.FILE_RANGE)]),
            ItemResult("t3", [Req.CALLBACK_DELIVERY], SKIPPED, message="skipped by --skip"),
        ]
    )
    report.evidence.saw(Req.PING, n=2)
    path = tmp_path / "junit.xml"
    report.write_junit(path)
    suite = ET.parse(path).getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {Req.PING, Req.FILE_RANGE, Req.CALLBACK_DELIVERY}
    assert cases[Req.FILE_RANGE].get("classname") == "a2v.files"
    failure = cases[Req.FILE_RANGE].find("failure")
    assert failure is not None
    assert "curl ..." in (failure.text or "")
    assert cases[Req.CALLBACK_DELIVERY].find("skipped") is not None
    assert suite.get("failures") == "1"
    observed = cases[Req.PING].find("properties/property[@name='observations']")
    assert observed is not None
    assert observed.get("value") == "2"


def test_violations_are_found_inside_exception_groups_and_causes() -> None:
    response = httpx.Response(
        404, json={"code": 20002}, request=httpx.Request("GET", "http://x/v1/a2v/video.get")
    )
    inner = ContractViolation(Req.ERROR_UNKNOWN_VIDEO, "no", response=response)
    group = ExceptionGroup("hypothesis", [ValueError("other"), inner])
    with pytest.raises(RuntimeError) as caught:
        raise RuntimeError("wrapped") from group
    assert [v.requirement for v in violations_in(caught.value)] == [Req.ERROR_UNKNOWN_VIDEO]
    assert "curl -i -X GET" in inner.curl


def test_a_requirement_is_passed_only_on_the_evidence_it_needs() -> None:
    """A check that held but never saw what the requirement needs is inconclusive, and says what."""
    report = KitReport(items=[ItemResult("t1", [Req.LIFECYCLE_FORWARD, Req.PING], PASSED)])
    report.evidence.saw(Req.PING)
    report.evidence.saw(Req.LIFECYCLE_FORWARD, n=3)
    results = report.requirements()
    assert results[Req.PING].outcome is PASSED
    assert results[Req.PING].observations == 1
    forward = results[Req.LIFECYCLE_FORWARD]
    assert forward.outcome is Outcome.INCONCLUSIVE
    assert forward.notes == [
        "not judged: missing one task seen in at least two statuses (every task read never moved)",
        "not judged: missing a task read again after it ended, still in its terminal status",
    ]
    assert not report.conforms

    report.evidence.saw(Req.LIFECYCLE_FORWARD, "task-moved")
    # "...and never leaves a terminal one": a clause of its own, never seen yet.
    assert report.outcomes()[Req.LIFECYCLE_FORWARD] is Outcome.INCONCLUSIVE
    report.evidence.saw(Req.LIFECYCLE_FORWARD, "terminal-kept")
    assert report.outcomes() == {Req.LIFECYCLE_FORWARD: PASSED, Req.PING: PASSED}
    assert "(5 observations)" in report.text()


@pytest.mark.parametrize(
    ("rid", "kinds", "missing"),
    [
        # "A new task is readable at once ... and starts pending"
        (Req.GENERATE_READABLE, ["distinct-ids"], "a new task read at once in status pending"),
        # "progress never decreases; 0 when pending, 100 when finished"
        (
            Req.LIFECYCLE_PROGRESS,
            ["task-moved", "progress-when-finished"],
            "a pending task's progress read",
        ),
        (
            Req.LIFECYCLE_PROGRESS,
            ["task-moved", "progress-while-pending"],
            "a finished task's progress read",
        ),
        # "WAV and MP3 always"
        (Req.LIFECYCLE_FINISHES, ["status:finished", "finished:wav"], "an MP3 task that finished"),
    ],
)
def test_no_clause_of_a_title_passes_unseen(rid: str, kinds: list[str], missing: str) -> None:
    """Each clause a requirement states is a need: with every other need seen, the one never seen
    leaves it inconclusive, naming that clause."""
    report = KitReport(items=[ItemResult("t1", [rid], PASSED)])
    report.evidence.saw(rid)
    for kind in kinds:
        report.evidence.saw(rid, kind)
    result = report.requirements()[rid]
    assert result.outcome is Outcome.INCONCLUSIVE
    assert [note for note in result.notes if missing in note], result.notes


def test_a_failed_control_and_a_finding_decide_the_verdict() -> None:
    report = KitReport(items=[ItemResult("t1", [Req.PING], PASSED)])
    report.evidence.saw(Req.PING)
    report.evidence.could_not_judge(Req.IDEMPOTENCY_REPLAY, "one id for every request")
    report.add_finding(violation(Req.GET_SAME_VIDEO))
    outcomes = report.outcomes()
    assert outcomes[Req.IDEMPOTENCY_REPLAY] is Outcome.INCONCLUSIVE
    assert outcomes[Req.GET_SAME_VIDEO] is FAILED
    assert report.requirements()[Req.IDEMPOTENCY_REPLAY].notes == ["not judged: one id for every request"]


def test_junit_carries_the_run_identity_and_nested_coverage(tmp_path: Path) -> None:
    """The suite's properties name the run (kit version, spec SHA-256, target, start and end), and a
    coverage dimension per operation (optional fields) becomes one property pair per operation."""
    from a2v_spec import load_spec
    from contract_tests.coverage import Coverage

    report = KitReport(items=[ItemResult("t1", [Req.PING], PASSED)])
    report.identify("http://127.0.0.1:8000")
    report.coverage = Coverage.of(load_spec())  # nothing seen: every optional field never seen
    report.finished = report.started + 1
    path = tmp_path / "junit.xml"
    report.write_junit(path)
    props = {p.get("name"): p.get("value") for p in ET.parse(path).getroot().find("properties") or []}
    assert props["run.target_url"] == "http://127.0.0.1:8000"
    assert re.fullmatch(r"[0-9a-f]{64}", props["run.spec_sha256"] or "")
    assert props["run.kit_version"]
    assert props["run.started"]
    assert props["run.finished"]
    assert "data.duration" in (props["coverage.optional_fields.getVideo.never_seen"] or "").split(",")
    assert props["coverage.task_statuses.never_seen"] == "error,finished,in_progressing,pending"


def test_identity_is_the_spec_file_hashed(tmp_path: Path) -> None:
    import hashlib

    from a2v_spec import spec_path

    spec = tmp_path / "openapi.yaml"
    spec.write_bytes(spec_path().read_bytes() + b"\n# a partner's copy\n")
    report = KitReport()
    report.identify("http://x", spec)
    assert report.spec_sha256 == hashlib.sha256(spec.read_bytes()).hexdigest()
    report.identify("http://x")
    assert report.spec_sha256 == hashlib.sha256(spec_path().read_bytes()).hexdigest()
    data = report.as_dict()
    assert data["target_url"] == "http://x"
    assert data["finished"] is None
