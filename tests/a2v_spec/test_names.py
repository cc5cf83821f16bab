"""The named codes and statuses agree with openapi.yaml, and a disagreement fails loudly."""

from __future__ import annotations

import copy

import pytest

from a2v_spec import TERMINAL, UNFINISHED, ErrorCode, Status, load_spec
from a2v_spec.names import check_names


@pytest.fixture(scope="module")
def document() -> dict:
    return load_spec().document


def test_every_catalog_row_has_a_name(document: dict) -> None:
    catalog = {row["code"] for row in document["x-a2v-error-catalog"]}
    assert catalog == {int(code) for code in ErrorCode if code is not ErrorCode.SUCCESS}


def test_statuses_in_spec_order(document: dict) -> None:
    assert [str(s) for s in Status] == document["components"]["schemas"]["VideoStatus"]["enum"]


def test_a_catalog_row_without_a_name_fails(document: dict) -> None:
    changed = copy.deepcopy(document)
    changed["x-a2v-error-catalog"].append({"code": 1999, "http_status": 400, "message": "x"})
    with pytest.raises(ValueError, match=r"catalog codes with no ErrorCode name: \[1999\]"):
        check_names(changed)


def test_a_name_without_a_catalog_row_fails(document: dict) -> None:
    changed = copy.deepcopy(document)
    changed["x-a2v-error-catalog"] = [r for r in changed["x-a2v-error-catalog"] if r["code"] != 1013]
    with pytest.raises(ValueError, match=r"ErrorCode names with no catalog row: \[1013\]"):
        check_names(changed)


def test_a_renamed_status_fails(document: dict) -> None:
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["VideoStatus"]["enum"][1] = "running"
    with pytest.raises(ValueError, match="VideoStatus enum"):
        check_names(changed)


@pytest.mark.parametrize(
    ("before", "after", "forward"),
    [
        (Status.PENDING, Status.IN_PROGRESSING, True),
        (Status.PENDING, Status.FINISHED, True),
        (Status.IN_PROGRESSING, Status.ERROR, True),
        (Status.IN_PROGRESSING, Status.PENDING, False),
        (Status.FINISHED, Status.ERROR, False),
        (Status.ERROR, Status.ERROR, False),
    ],
)
def test_lifecycle_order(before: Status, after: Status, forward: bool) -> None:
    assert before.precedes(after) is forward


def test_terminal_and_unfinished_partition_the_statuses() -> None:
    assert frozenset({Status.FINISHED, Status.ERROR}) == TERMINAL
    assert frozenset(Status) == TERMINAL | UNFINISHED
    assert not TERMINAL & UNFINISHED
    assert Status.ERROR.is_terminal
    assert not Status.PENDING.is_terminal
