"""`--reload`: watch the config and characters files and apply their changes to the running server.

State is kept: tasks, files, tokens, the journal and counters stay; what changes is what the files say.
Settings that only matter at start-up (address, data directory, worker count, ...) are reported as
needing a restart instead of being applied half-way. A file that no longer parses is reported in one
line and the running settings stay as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from mock_server.config import Settings

__all__ = ["RESTART_ONLY", "FileWatcher", "apply_settings"]

log = logging.getLogger("mock_server.reload")

#: Settings read once at start-up; a change to them is reported, not applied.
RESTART_ONLY: Final = frozenset(
    {
        "host",
        "port",
        "data_dir",
        "render_workers",
        "render_nice",
        "http",
        "journal_size",
        "signing_secret",
        "cors_origins",
        "limits",
        "queue_capacity",
        "prewarm",
        "log_format",
        "forwarded_allow_ips",
        "public_url",
    }
)

#: Settings the scenario holds at run time (applied through it, as `PUT /__admin/scenario` would).
SCENARIO_KEYS: Final = (
    "latency_ms",
    "error_rate",
    "drop_rate",
    "rate_limit",
    "timings",
    "next_tasks",
    "seed",
    "url_ttl_seconds",
)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


class FileWatcher:
    """Polls files' modification times (no platform-specific watcher needed) and calls `on_change`."""

    def __init__(
        self, paths: list[Path], on_change: Callable[[list[Path]], Awaitable[None]], interval: float = 0.5
    ) -> None:
        self.paths = list(paths)
        self.on_change = on_change
        self.interval = interval
        self._stamps = {path: _stamp(path) for path in self.paths}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="a2v-reload")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def poll(self) -> list[Path]:
        """The files changed since the last poll (after calling `on_change` with them)."""
        changed = []
        for path in self.paths:
            stamp = _stamp(path)
            if stamp != self._stamps[path]:
                self._stamps[path] = stamp
                changed.append(path)
        if changed:
            await self.on_change(changed)
        return changed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except Exception:  # a bad reload must never stop the server
                log.exception("reload failed")


def diff(old: Settings, new: Settings) -> dict[str, Any]:
    """Setting name -> new value, for every setting that differs."""
    import dataclasses

    return {
        f.name: getattr(new, f.name)
        for f in dataclasses.fields(new)
        if getattr(old, f.name) != getattr(new, f.name)
    }


async def apply_settings(
    services: Any, new: Settings, changed_files: list[Path] | None = None
) -> tuple[list[str], list[str]]:
    """Apply `new` to the running `services`; returns (applied, needing a restart) setting names.
    The characters are read again when their file is among `changed_files` or another file is named."""
    changes = diff(services.settings, new)
    restart = sorted(name for name in changes if name in RESTART_ONLY)
    applied = sorted(name for name in changes if name not in RESTART_ONLY)
    live = {name: changes[name] for name in applied}
    for name, value in live.items():
        setattr(services.settings, name, value)
    services.take_sections()  # each consumer holds its own section: the new values reach it here
    scenario = {name: live[name] for name in SCENARIO_KEYS if name in live}
    if scenario:
        await services.control.put(scenario)
    if "audio_hosts" in live:
        hosts = live["audio_hosts"]
        services.fetcher.allowed_hosts = None if hosts is None else {h.lower() for h in hosts}
    if "log_level" in live:
        logging.getLogger().setLevel(str(live["log_level"]).upper())
    characters = new.characters_file
    if "characters_file" in live or (characters is not None and characters in (changed_files or [])):
        await services.reload_characters()
        if "characters_file" not in applied:
            applied.append("characters")
    return applied, restart
