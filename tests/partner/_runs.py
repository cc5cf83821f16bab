"""How the partner tests run pytest inside pytest (pytester).

Always in a subprocess: a partner's suite starts fresh, and the mock's renderer (numpy, a process pool)
cannot be imported again after pytester's in-process runs restore `sys.modules`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def plugin_args() -> list[str]:
    """`-p partner.plugin`, unless the `a2v_partner` entry point already loads it (loading it twice,
    under two names, is an error)."""
    if any(ep.name == "a2v_partner" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "partner.plugin"]


#: Inner runs: the plugin, warnings as errors (like the project's own suite), no cache dir.
INNER_ARGS = [*plugin_args(), "-W", "error", "-p", "no:cacheprovider", "-q"]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*INNER_ARGS, *args, timeout=120)
