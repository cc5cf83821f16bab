"""One task observed from `video.generate` to its end, and the lifecycle rules checked on every read.

The rules come from `a2v_spec.Status`: a status never moves back (`precedes`), a terminal status is
never left (`is_terminal`), and progress never decreases.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from a2v_spec import TERMINAL, UNFINISHED, Status
from contract_tests.errors import A2VError, A2VProtocolError, A2VTimeout
from contract_tests.evidence import Blocked
from contract_tests.evidence import observe as record
from contract_tests.requirement_ids import Req
from contract_tests.requirements import kinds
from contract_tests.violations import ContractViolation, check

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    import httpx

    from contract_tests.client import A2VClient
    from contract_tests.models import Video

__all__ = ["Stalls", "TaskRun", "forward_problem", "run_task"]


class Stalls:
    """The first task that did not end within `--timeout`, shared by every check of a run.

    The check that met it reports it (under A2V-LIFECYCLE-FINISHES); every later task check is
    blocked by it at once instead of waiting out its own timeout, so a run against a service whose
    tasks never end takes one timeout, not one per check.
    """

    def __init__(self) -> None:
        self.first: str | None = None
        self._lock = threading.Lock()  # tasks run in parallel (`task_pool.py`)

    def record(self, video_id: str, status: object, waited: float) -> bool:
        """Note a stall; True when it is the run's first (its check reports it), else False."""
        with self._lock:
            if self.first is not None:
                return False
            self.first = (
                f"video {video_id} stalled in status {status!r} for {waited:.0f} s "
                "(reported under A2V-LIFECYCLE-FINISHES)"
            )
            return True

    def check(self) -> None:
        """Raise `Blocked` when a task already stalled."""
        if self.first is not None:
            raise Blocked(f"blocked: tasks do not end here: {self.first}")


@dataclass
class TaskRun:
    """Everything observed of one task, from `video.generate` to its end."""

    video_id: str
    audio_seconds: float | None
    history: list[Video] = field(default_factory=list)
    elapsed: float = 0.0
    #: The last answer read for this task (the evidence a check of its final state shows).
    last_response: httpx.Response | None = None

    @property
    def final(self) -> Video:
        """The last state read (the terminal one once `run_task` returns)."""
        return self.history[-1]


def forward_problem(prev: Video, video: Video) -> tuple[str, str, str] | None:
    """(requirement, what happened, what was expected) when `video` may not follow `prev`, else None."""
    if prev.status.is_terminal and video.status is not prev.status:
        return (
            Req.LIFECYCLE_FORWARD,
            f"video {video.video_id} left terminal status {prev.status!r} for {video.status!r}",
            f"status stays {prev.status!r}",
        )
    if video.status.precedes(prev.status):
        return (
            Req.LIFECYCLE_FORWARD,
            f"video {video.video_id} moved backwards from {prev.status!r} to {video.status!r}",
            " -> ".join(_in_order(UNFINISHED)) + " -> " + " | ".join(_in_order(TERMINAL)),
        )
    if isinstance(video.progress, int) and isinstance(prev.progress, int) and video.progress < prev.progress:
        return (
            Req.LIFECYCLE_PROGRESS,
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
    stalls: Stalls | None = None,
    on_progress: Callable[[Video], None] | None = None,
) -> TaskRun:
    """Generate and poll to the end, checking forward motion and progress on every observation.

    Raises ContractViolation for A2V-GENERATE-READABLE, -LIFECYCLE-FORWARD, -PROGRESS, -SHAPE and
    -FINISHES.
    """
    if stalls is not None:
        stalls.check()
    started = time.monotonic()
    try:
        video_id = client.generate_video(model_id, audio_url, callback_url=callback_url)
    except A2VError as err:
        raise ContractViolation(
            Req.LIFECYCLE_FINISHES,
            f"video.generate refused a valid request: {err}",
            expected="HTTP 200 with a video_id",
            response=err.response,
        ) from err
    run = TaskRun(video_id=video_id, audio_seconds=audio_seconds)

    def observe(video: Video) -> None:
        check(
            video.video_id == video_id,
            Req.GET_SAME_VIDEO,
            f"video.get?video_id={video_id} answered video {video.video_id!r}",
            expected=f"video_id {video_id}",
            response=client.last_response,
        )
        if run.history:
            problem = forward_problem(run.history[-1], video)
            if problem is not None:
                requirement, message, expected = problem
                raise ContractViolation(
                    requirement, message, expected=expected, response=client.last_response
                )
            record(Req.LIFECYCLE_FORWARD)
            record(Req.LIFECYCLE_PROGRESS)
        _judge_progress(video, client.last_response)
        run.history.append(video)
        if on_progress is not None:
            on_progress(video)

    try:
        first = client.get_video(video_id)
    except A2VError as err:
        raise _unreadable(err, client.last_response, Req.GENERATE_READABLE) from err
    observe(first)
    if first.status is Status.PENDING:
        record(Req.GENERATE_READABLE, kinds.STARTED_PENDING)
    try:
        client.wait_for_video(
            video_id, timeout=timeout, poll_interval=0.2, max_interval=2.0, on_progress=observe
        )
    except A2VTimeout as err:
        if stalls is not None and not stalls.record(video_id, err.last_status, time.monotonic() - started):
            raise Blocked(f"blocked: tasks do not end here: {stalls.first}") from err
        raise ContractViolation(
            Req.LIFECYCLE_FINISHES,
            f"video {video_id} did not end within {timeout:g} s (last status {err.last_status!r})",
            expected=f"status finished or error within --timeout {timeout:g} s",
            response=client.last_response,
        ) from err
    except A2VProtocolError as err:
        raise _unreadable(err, client.last_response, Req.LIFECYCLE_SHAPE) from err
    run.elapsed = time.monotonic() - started
    run.last_response = client.last_response
    _read_again(client, run)
    if len({v.status for v in run.history}) >= 2:
        # Forward motion and progress are judged only on a task that moved (issue 16).
        record(Req.LIFECYCLE_FORWARD, kinds.TASK_MOVED)
        record(Req.LIFECYCLE_PROGRESS, kinds.TASK_MOVED)
    if run.final.status is Status.FINISHED:
        record(Req.LIFECYCLE_FINISHES, kinds.FINISHED)
    return run


def _judge_progress(video: Video, response: httpx.Response | None) -> None:
    """A2V-LIFECYCLE-PROGRESS: 0 while pending and 100 when finished, judged when the service sends
    `progress` (each judged value is the evidence for its clause)."""
    progress = video.progress
    if not isinstance(progress, int):
        return
    if video.status is Status.PENDING:
        check(
            progress == 0,
            Req.LIFECYCLE_PROGRESS,
            f"video {video.video_id} is pending with progress {progress}",
            expected="progress 0 while pending",
            response=response,
        )
        record(Req.LIFECYCLE_PROGRESS, kinds.PENDING_PROGRESS)
    elif video.status is Status.FINISHED:
        check(
            progress == 100,
            Req.LIFECYCLE_PROGRESS,
            f"video {video.video_id} is finished with progress {progress}",
            expected="progress 100 when finished",
            response=response,
        )
        record(Req.LIFECYCLE_PROGRESS, kinds.FINISHED_PROGRESS)


def _read_again(client: A2VClient, run: TaskRun) -> None:
    """A2V-LIFECYCLE-FORWARD's "never leaves a terminal one": the ended task, read once more, keeps its
    status (polling stops at the terminal read, so without this read the clause is never observed)."""
    try:
        again = client.get_video(run.video_id)
    except A2VError as err:
        raise _unreadable(err, client.last_response, Req.LIFECYCLE_FORWARD) from err
    problem = forward_problem(run.final, again)
    if problem is not None:
        requirement, message, expected = problem
        raise ContractViolation(requirement, message, expected=expected, response=client.last_response)
    record(Req.LIFECYCLE_FORWARD, kinds.TERMINAL_KEPT)


def _unreadable(err: A2VError, response: httpx.Response | None, requirement: str) -> ContractViolation:
    if isinstance(err, A2VProtocolError):
        # The answer came but is not a Video (an unknown status, a missing id): the shape is wrong.
        return ContractViolation(
            Req.LIFECYCLE_SHAPE,
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
