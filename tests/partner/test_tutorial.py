"""docs/tutorial.md cannot rot: its Python blocks, in order, are run as one partner test module."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.partner._runs import run
from tests.partner.conftest import ROOT

if TYPE_CHECKING:
    import pytest

TUTORIAL = ROOT / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def tutorial_code() -> str:
    return "\n\n".join(block.strip() + "\n" for block in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")))


def test_the_tutorial_has_code_for_every_failure() -> None:
    code = tutorial_code()

    for name in ("slow_task", "failed_task", "rate_limit", "expired_url"):
        assert re.search(rf"^def test_{name}\w*\(a2v\)", code, re.MULTILINE), name
    assert "a2v_server" in code
    assert "a2v_respx" in code


def test_the_tutorial_runs(pytester: pytest.Pytester) -> None:
    code = tutorial_code()
    both = len(re.findall(r"^def test_\w+\(a2v\)", code, re.MULTILINE))
    respx_only = len(re.findall(r"^def test_\w+\(a2v_respx\)", code, re.MULTILINE))
    pytester.makepyfile(test_tutorial=code)

    result = run(pytester)

    result.assert_outcomes(passed=2 * both + respx_only)
