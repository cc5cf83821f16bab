"""Shared by every check module: what must start with the run's first check.

The shared tasks (`task_pool.py`) and the clocks of the expiry checks (`clocks.py`) start before the
first check, so their waits run beside the other checks instead of after them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from contract_tests.client import A2VClient
    from contract_tests.clocks import EarlyLogin
    from contract_tests.task_pool import TaskPool


@pytest.fixture(scope="session")
def a2v_early_login(a2v_client: A2VClient) -> EarlyLogin:
    """A throwaway `account.login` sent as the run starts (A2V-LOGIN-EXPIRED waits out its token)."""
    from contract_tests.clocks import early_login

    return early_login(a2v_client)


def _selected_checks_use(session: pytest.Session, fixture: str) -> bool:
    return any(
        fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker("skip") is None
        for item in session.items
    )


@pytest.fixture(scope="session", autouse=True)
def _a2v_start_early(request: pytest.FixtureRequest) -> None:
    """Start the shared tasks and the expiry clocks before the first check, for the checks selected."""
    from contract_tests.requirements import select
    from contract_tests.task_pool import tasks_for

    options = request.getfixturevalue("a2v_options")
    chosen, skipped = select(options.only, options.skip)
    if tasks_for(chosen - skipped):
        pool: TaskPool = request.getfixturevalue("a2v_tasks")
        del pool
    if _selected_checks_use(request.session, "a2v_early_login"):
        request.getfixturevalue("a2v_early_login")
