"""The client rules quote the spec; every kit requirement is judged from traffic or says why it is not."""

from __future__ import annotations

import re

import pytest

from a2v_spec import load_spec, resolve_pointer
from contract_tests.proxy import CLIENT_REQUIREMENTS, SERVER_JUDGED, SERVER_NOT_JUDGED
from contract_tests.proxy.requirements import Requirement, requirement
from contract_tests.requirement_ids import Req
from contract_tests.requirements import REQUIREMENTS


@pytest.mark.parametrize("req", CLIENT_REQUIREMENTS.values(), ids=list(CLIENT_REQUIREMENTS))
def test_client_rule_quotes_the_spec(req: Requirement) -> None:
    text = re.sub(r"\s+", " ", str(resolve_pointer(load_spec().document, req.pointer)))
    assert re.sub(r"\s+", " ", req.quote) in text
    assert re.fullmatch(r"A2V-CLIENT(-[A-Z0-9]+)+", req.id)


def test_every_kit_requirement_is_judged_or_explained() -> None:
    assert set(SERVER_JUDGED) | set(SERVER_NOT_JUDGED) == set(REQUIREMENTS)
    assert not set(SERVER_JUDGED) & set(SERVER_NOT_JUDGED)
    assert not set(CLIENT_REQUIREMENTS) & set(REQUIREMENTS)


def test_requirement_lookup() -> None:
    assert requirement(Req.PING).group == "lifecycle"
    assert requirement(Req.CLIENT_RETRY_AFTER).group == "client"
    with pytest.raises(KeyError, match="no requirement 'A2V-NOPE'"):
        requirement("A2V-NOPE")
