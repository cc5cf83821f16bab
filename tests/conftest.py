"""Fixtures for the whole suite."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Tests that run a CLI in-process (`a2v-mock`'s `main`) install the mock's log handler on the root
    logger, bound to the stderr pytest captured for that test; a server thread of a later test would
    then log into a closed stream. Each test leaves the root logger as it found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
