"""Shared by every check module: the run's tasks start with its first check (see `task_pool.py`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contract_tests.task_pool import TaskPool


@pytest.fixture(scope="session", autouse=True)
def _a2v_start_tasks(request: pytest.FixtureRequest) -> None:
    """Start the shared tasks before the first check, unless no selected check needs one."""
    from contract_tests.task_pool import tasks_for

    options = request.getfixturevalue("a2v_options")
    from contract_tests.requirements import select

    chosen, skipped = select(options.only, options.skip)
    if tasks_for(chosen - skipped):
        pool: TaskPool = request.getfixturevalue("a2v_tasks")
        del pool
