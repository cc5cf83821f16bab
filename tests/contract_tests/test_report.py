"""How test outcomes become one verdict per requirement, and how the JUnit XML names them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import httpx
import pytest

from contract_tests.report import ItemResult, KitReport, Outcome
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
            ItemResult("t1", ["A2V-PING"], PASSED),
            ItemResult("t2", ["A2V-FILE-RANGE"], FAILED, [violation("A2V-FILE-RANGE")]),
            ItemResult("t3", ["A2V-CALLBACK-DELIVERY"], SKIPPED, message="skipped by --skip"),
        ]
    )
    path = tmp_path / "junit.xml"
    report.write_junit(path)
    suite = ET.parse(path).getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"A2V-PING", "A2V-FILE-RANGE", "A2V-CALLBACK-DELIVERY"}
    assert cases["A2V-FILE-RANGE"].get("classname") == "a2v.files"
    failure = cases["A2V-FILE-RANGE"].find("failure")
    assert failure is not None
    assert "curl ..." in (failure.text or "")
    assert cases["A2V-CALLBACK-DELIVERY"].find("skipped") is not None
    assert suite.get("failures") == "1"


def test_violations_are_found_inside_exception_groups_and_causes() -> None:
    response = httpx.Response(
        404, json={"code": 20002}, request=httpx.Request("GET", "http://x/v1/a2v/video.get")
    )
    inner = ContractViolation("A2V-ERROR-UNKNOWN-VIDEO", "no", response=response)
    group = ExceptionGroup("hypothesis", [ValueError("other"), inner])
    with pytest.raises(RuntimeError) as caught:
        raise RuntimeError("wrapped") from group
    assert [v.requirement for v in violations_in(caught.value)] == ["A2V-ERROR-UNKNOWN-VIDEO"]
    assert "curl -i -X GET" in inner.curl
