"""Every requirement is traceable to the spec, and selection by id glob and group works."""

from __future__ import annotations

import re
from typing import Any

import pytest

from a2v_spec import load_spec, resolve_pointer
from contract_tests.requirement_ids import Req
from contract_tests.requirements import GROUPS, REQUIREMENTS, select


@pytest.mark.parametrize("req", REQUIREMENTS.values(), ids=list(REQUIREMENTS))
def test_quote_is_in_the_spec_at_its_pointer(req: Any) -> None:
    text = re.sub(r"\s+", " ", str(resolve_pointer(load_spec().document, req.pointer)))
    assert re.sub(r"\s+", " ", req.quote) in text
    assert re.fullmatch(r"A2V(-[A-Z0-9]+)+", req.id)


@pytest.mark.parametrize(
    ("only", "skip", "selected", "skipped"),
    [
        (
            ["A2V-FILE-*"],
            [],
            {
                Req.FILE_VIDEO_MP4,
                Req.FILE_DURATION,
                Req.FILE_MASK,
                Req.FILE_RANGE,
                Req.FILE_TAMPER,
                Req.FILE_EXPIRES,
            },
            set(),
        ),
        ([Req.PING], ["callbacks"], {Req.PING}, set()),
        (
            ["A2V-CALLBACK-*"],
            ["callbacks"],
            {Req.CALLBACK_DELIVERY, Req.CALLBACK_SIGNATURE, Req.CALLBACK_RETRY},
            {Req.CALLBACK_DELIVERY, Req.CALLBACK_SIGNATURE, Req.CALLBACK_RETRY},
        ),
    ],
)
def test_select(only: list[str], skip: list[str], selected: set[str], skipped: set[str]) -> None:
    assert select(only, skip) == (selected, skipped)


def test_select_everything_by_default_and_refuse_unknown_groups() -> None:
    assert select([], [])[0] == set(REQUIREMENTS)
    assert {"idempotency", "callbacks", "expiry", "tenants"} <= GROUPS
    with pytest.raises(ValueError, match="names no group"):
        select([], ["idempotence"])
