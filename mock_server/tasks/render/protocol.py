"""The render queue: where a task's render runs. `RenderQueue` is the seam; `RenderJob` what crosses it.

The task runner only awaits `render(job)`; the embedded `LocalRenderPool` runs it in processes of this
machine, and a distributed queue (Celery, ...) can run it elsewhere. A job names its input and output
files by path: a remote implementation moves them (for example through the file store) itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["RenderJob", "RenderQueue"]


@dataclass(frozen=True)
class RenderJob:
    job_id: str
    audio: str
    model_id: str
    output: str
    mask_output: str
    size: int
    fps: int
    min_duration: float
    max_duration: float
    characters_file: str | None


class RenderQueue(Protocol):
    async def render(self, job: RenderJob, progress: Callable[[int, int], None] | None = None) -> float:
        """Render `job`; returns the video's duration in seconds or raises `TaskFailure` with its code."""
        ...

    async def prewarm(self) -> None:
        """Get workers ready so the first job pays no start-up cost (best effort)."""
        ...

    async def aclose(self) -> None:
        """Stop the workers; jobs not finished are abandoned (their tasks resume on the next start)."""
        ...
