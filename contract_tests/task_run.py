"""One task observed from `video.generate` to its end, and the lifecycle rules checked on every read.

The rules come from `a2v_spec.Status`: a status never moves back (`precedes`), a terminal status is
never left (`is_terminal`), and progress never decreases.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from a2v_spec import TERMINAL, UNFINISHED, Status
from contract_tests.errors import A2VError, A2VProtocolError, A2VTimeout
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterable

    import httpx

    from contract_tests.client import A2VClient
    from contract_tests.models import Video

__all__ = ["TaskRun", "forward_problem", "run_task"]


@dataclass
class TaskRun:
    """Everything observed of one task, from `video.generate` to its end."""

    video_id: str
    audio_seconds: float | None
    history: list[Video] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def final(self) -> Video:
        """The last state read (the terminal one once `run_task` returns)."""
        return self.history[-1]


def forward_problem(prev: Video, video: Video) -> tuple[str, str, str] | None:
    """(requirement, what happened, what was expected) when `video` may not follow `prev`, else None."""
    if prev.status.is_terminal and video.status is not prev.status:
        return (
            "A2V-LIFECYCLE-FORWARD",
            f"video {video.video_id} left terminal status {prev.status!r} for {video.status!r}",
            f"status stays {prev.status!r}",
        )
    if video.status.precedes(prev.status):
        return (
            "A2V-LIFECYCLE-FORWARD",
            f"video {video.video_id} moved backwards from {prev.status!r} to {video.status!r}",
            " -> ".join(_in_order(UNFINISHED)) + " -> " + " | ".join(_in_order(TERMINAL)),
        )
    if isinstance(video.progress, int) and isinstance(prev.progress, int) and video.progress < prev.progress:
        return (
            "A2V-LIFECYCLE-PROGRESS",
            f"video {video.video_id} progress decreased from {prev.progress} to {video.progress}",
            f"progress >= {prev.progress}",
        )
    return None


def _in_order(statuses: Iterable[Status]) -> list[str]:
    """`statuses` in the order `Status` declares them (the lifecycle's)."""
    return [str(status) for status in Status if status in set(statuses)]


def run_task(
    client: A2VClient,
    model_id: str,
    audio_url: str,
    *,
    timeout: float,
    audio_seconds: float | None = None,
    callback_url: str | None = None,
) -> TaskRun:
    """Generate and poll to the end, checking forward motion and progress on every observation.

    Raises ContractViolation for A2V-GENERATE-READABLE, -LIFECYCLE-FORWARD, -PROGRESS, -SHAPE and
    -FINISHES.
    """
    started = time.monotonic()
    try:
        video_id = client.generate_video(model_id, audio_url, callback_url=callback_url)
    except A2VError as err:
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"video.generate refused a valid request: {err}",
            expected="HTTP 200 with a video_id",
            response=err.response,
        ) from err
    run = TaskRun(video_id=video_id, audio_seconds=audio_seconds)

    def observe(video: Video) -> None:
        if run.history:
            problem = forward_problem(run.history[-1], video)
            if problem is not None:
                requirement, message, expected = problem
                raise ContractViolation(
                    requirement, message, expected=expected, response=client.last_response
                )
        run.history.append(video)

    try:
        first = client.get_video(video_id)
    except A2VError as err:
        raise _unreadable(err, client.last_response, "A2V-GENERATE-READABLE") from err
    observe(first)
    try:
        client.wait_for_video(
            video_id, timeout=timeout, poll_interval=0.2, max_interval=2.0, on_progress=observe
        )
    except A2VTimeout as err:
        raise ContractViolation(
            "A2V-LIFECYCLE-FINISHES",
            f"video {video_id} did not end within {timeout:g} s (last status {err.last_status!r})",
            expected=f"status finished or error within --timeout {timeout:g} s",
            response=client.last_response,
        ) from err
    except A2VProtocolError as err:
        raise _unreadable(err, client.last_response, "A2V-LIFECYCLE-SHAPE") from err
    run.elapsed = time.monotonic() - started
    return run


def _unreadable(err: A2VError, response: httpx.Response | None, requirement: str) -> ContractViolation:
    if isinstance(err, A2VProtocolError):
        # The answer came but is not a Video (an unknown status, a missing id): the shape is wrong.
        return ContractViolation(
            "A2V-LIFECYCLE-SHAPE",
            f"video.get answered something that is not a Video: {err}",
            expected="the Video schema",
            response=response,
        )
    return ContractViolation(
        requirement,
        f"video.get for the id video.generate just returned failed: {err}",
        expected="HTTP 200 with the new task",
        response=err.response,
    )
