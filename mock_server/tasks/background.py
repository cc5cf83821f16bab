"""Background coroutines that never die unobserved.

`asyncio` only reports a failed task's exception when the task is garbage-collected ("Task exception
was never retrieved"), long after, or never. `spawn` starts a task and logs its failure the moment it
happens, naming what it was doing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from collections.abc import Coroutine

__all__ = ["observe", "spawn"]

log = logging.getLogger("mock_server")
_T = TypeVar("_T")


def observe(job: asyncio.Future[Any], what: str) -> None:
    """Log `job`'s exception (not its cancellation) as soon as it ends."""

    def report(done: asyncio.Future[Any]) -> None:
        if not done.cancelled() and (error := done.exception()) is not None:
            log.error("background %s failed: %r", what, error, exc_info=error)

    job.add_done_callback(report)


def spawn(coroutine: Coroutine[Any, Any, _T], what: str) -> asyncio.Task[_T]:
    job = asyncio.create_task(coroutine, name=f"a2v-{what}")
    observe(job, what)
    return job
