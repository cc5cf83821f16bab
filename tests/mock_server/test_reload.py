"""`--reload` in process: each consumer holds its own section of the settings, so a reload must hand the
new sections out (the process test in test_cli_startup covers the file watching)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from mock_server.config import Settings
from mock_server.runtime.app import create_app
from mock_server.runtime.reload import apply_settings
from mock_server.tasks.runner import TaskRunner

if TYPE_CHECKING:
    from pathlib import Path


def test_a_reload_reaches_every_consumers_section(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, prewarm=False, api_keys=["old-key"], users={"alice": "pw"})
    services = create_app(settings).services
    new = settings.replace(
        api_keys=["new-key"],
        users={"bob": "pw2"},
        callback_attempts=2,
        callback_backoff_seconds=0.5,
        task_deadline_seconds=33.0,
        error_rate=0.5,
        seed=7,
    )
    applied, restart = asyncio.run(apply_settings(services, new))
    assert restart == []
    assert {"api_keys", "users", "callback_attempts", "task_deadline_seconds", "error_rate"} <= set(applied)
    assert services.auth.settings.api_keys == {"new-key"}
    assert dict(services.auth.settings.users) == {"bob": "pw2"}
    assert (services.callbacks.settings.attempts, services.callbacks.settings.backoff_seconds) == (2, 0.5)
    assert isinstance(services.runner, TaskRunner)
    assert services.runner.settings.task_deadline_seconds == 33.0
    # the scenario took the new values, and a reset returns to them (not to the start-up ones)
    assert (services.scenario.error_rate, services.scenario.seed) == (0.5, 7)
    asyncio.run(services.control.put({"error_rate": 0.0}))
    asyncio.run(services.control.reset(None))
    assert (services.scenario.error_rate, services.scenario.seed) == (0.5, 7)


def test_a_reloaded_key_is_accepted_and_the_dropped_one_refused(tmp_path: Path) -> None:
    """Also when the dropped key was used (and its identity kept) before the reload."""
    services = create_app(Settings(data_dir=tmp_path, prewarm=False, api_keys=["old-key"])).services

    async def tenants() -> tuple[str | None, str | None, str | None]:
        try:
            before = await services.auth.identify("Bearer old-key")
            await apply_settings(services, services.settings.replace(api_keys=["new-key"]))
            new = await services.auth.identify("Bearer new-key")
            old = await services.auth.identify("Bearer old-key")
        finally:
            await services.store.aclose()
        return (
            (None if before.refusal else before.tenant),
            (None if new.refusal else new.tenant),
            (None if old.refusal else old.tenant),
        )

    used, accepted, refused = asyncio.run(tenants())
    assert used is not None
    assert accepted is not None
    assert refused is None
