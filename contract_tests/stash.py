"""What the kit's plugin keeps in pytest's stash: typed keys, one per value, never item attributes.

Session values live in `config.stash` (the run's options and its report); per-test values live in
`item.stash` (the result decided in setup or call, added to the report at teardown, and the call's
duration). Hooks, fixtures and check modules all reach them through these keys.
"""

from __future__ import annotations

import contextlib

import pytest

from contract_tests.config import KitOptions
from contract_tests.report import ItemResult, KitReport

__all__ = ["CALL_DURATION", "OPTIONS", "RECORDING", "REPORT", "RESULT", "active"]

#: The run's options; present only when the kit is active (`--a2v-base-url` or a programmatic run).
OPTIONS = pytest.StashKey[KitOptions]()
#: The report the run fills, one `ItemResult` per kit test.
REPORT = pytest.StashKey[KitReport]()
#: The session's evidence recording (`contract_tests.evidence.recording`), closed at session finish.
RECORDING = pytest.StashKey[contextlib.ExitStack]()
#: Per test: its result, decided in setup or call and added to the report at teardown.
RESULT = pytest.StashKey[ItemResult]()
#: Per test: how long its call phase took (the report's per-requirement time).
CALL_DURATION = pytest.StashKey[float]()


def active(config: pytest.Config) -> bool:
    """True when this session runs the kit (the options were given)."""
    return OPTIONS in config.stash
