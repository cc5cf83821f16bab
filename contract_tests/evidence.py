"""Evidence, then verdict: what the kit observed for each requirement, counted.

A check that ran to its end without a violation proves nothing by itself: a replay check passes
against a server that returns one id for every request, a lifecycle check passes on a task that never
moved. So every requirement declares the observations it needs (`Need`, in `requirements.py`), checks
record what they saw (`observe`), and the report passes a requirement only when each of its needs was
observed; otherwise it is `inconclusive`, with the sentence of the missing need.

Observations are recorded in two ways:

* `violations.check(...)` records one `JUDGED` observation for its requirement each time its condition
  holds, and the fuzz layer one per answer it judged: "this many answers supported it";
* checks record named observations (`observe(rid, TASK_MOVED)`) and controls: a check whose control
  fails (two different requests got one id, so a replay proves nothing) raises `Unobserved` with the
  sentence that says why it could not judge.

The recorder of the running session is reached through a context variable that the plugin sets for
the session (`recording`), so `check()` needs no extra argument and the proxy's reuse of the checks
records nothing when no session is recording.

Besides the counts, the recorder keeps what the shareable report draws (`report_html.py`): how long
each request waited for its answer, per operation (`observe_request`), and every status the kit read
of each task, with the time it read it (`observe_task`): a lifecycle timeline per task and a latency
histogram per operation come from these, not from a second pass over the traffic.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "JUDGED",
    "Blocked",
    "Evidence",
    "Need",
    "RequestTiming",
    "TaskSeen",
    "Unobserved",
    "current",
    "observe",
    "observe_request",
    "observe_task",
    "recording",
    "unobserved",
]

#: One answer or value judged by a requirement's check, which held.
JUDGED = "judged"


@dataclass(frozen=True)
class Need:
    """An observation a requirement cannot be judged without: `kind` counted at least `at_least` times.

    `sentence` completes "missing: ..." in the report, so it says what was never seen.
    """

    kind: str
    sentence: str
    at_least: int = 1


class Unobserved(Exception):
    """A check's control failed: it cannot judge `requirement`, and `sentence` says why.

    Not a violation (the requirement may hold) and not a pass (nothing was seen that shows it).
    """

    def __init__(self, requirement: str, sentence: str) -> None:
        self.requirement = requirement
        self.sentence = sentence
        super().__init__(f"[{requirement}] not judged: {sentence}")


class Blocked(Exception):
    """A check cannot run because of a finding already reported elsewhere (`reason` names it).

    Reported as `blocked`, never as another failure: one stalled task is one finding, not eight.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class RequestTiming:
    """One answer: what it answered (`operation` is the spec's operationId, or `file` / `other`), its
    HTTP status, when the request left (wall clock) and the seconds until the answer's head came."""

    operation: str
    method: str
    status: int
    at: float
    seconds: float


@dataclass(frozen=True)
class TaskSeen:
    """One read of a task: when (wall clock) and what it said. `status` is None for the answer of
    `video.generate` (the task's creation, before any status was read)."""

    at: float
    status: str | None
    progress: int | None = None


class Evidence:
    """Observations per requirement id and kind, the controls that failed, and the run's timings."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.unjudged: dict[str, list[str]] = {}
        self.requests: list[RequestTiming] = []
        #: Every read of each task, in the order the kit made them (tasks run in parallel threads).
        self.tasks: dict[str, list[TaskSeen]] = {}
        self._lock = threading.Lock()

    def timed(self, timing: RequestTiming) -> None:
        with self._lock:
            self.requests.append(timing)

    def task(self, video_id: str, seen: TaskSeen) -> None:
        with self._lock:
            self.tasks.setdefault(video_id, []).append(seen)

    def saw(self, requirement: str, kind: str = JUDGED, n: int = 1) -> None:
        with self._lock:
            self.counts.setdefault(requirement, Counter())[kind] += n

    def could_not_judge(self, requirement: str, sentence: str) -> None:
        notes = self.unjudged.setdefault(requirement, [])
        if sentence not in notes:
            notes.append(sentence)

    def count(self, requirement: str, kind: str | None = None) -> int:
        counter = self.counts.get(requirement, Counter())
        return sum(counter.values()) if kind is None else counter[kind]

    def missing(self, requirement: str, needs: tuple[Need, ...]) -> list[str]:
        """The sentences of the needs of `requirement` that were not observed often enough."""
        out = []
        for need in needs:
            seen = self.count(requirement, need.kind)
            if seen < need.at_least:
                times = f" (seen {seen} of {need.at_least} times)" if need.at_least > 1 else ""
                out.append(need.sentence + times)
        return out

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {rid: dict(counter) for rid, counter in sorted(self.counts.items())}


_CURRENT: ContextVar[Evidence | None] = ContextVar("a2v_evidence", default=None)


@contextlib.contextmanager
def recording(evidence: Evidence) -> Iterator[Evidence]:
    """Record every `observe` (and every `check` that holds) into `evidence` while the block runs.

    The plugin enters it at session start and leaves it at session end (through an `ExitStack`).
    """
    token = _CURRENT.set(evidence)
    try:
        yield evidence
    finally:
        _CURRENT.reset(token)


def current() -> Evidence | None:
    """The evidence the running session records into, if any."""
    return _CURRENT.get()


def observe(requirement: str, kind: str = JUDGED, n: int = 1) -> None:
    """Record that the kit saw `kind` for `requirement` (no-op when no session is recording)."""
    evidence = _CURRENT.get()
    if evidence is not None:
        evidence.saw(requirement, kind, n)


def observe_request(operation: str, method: str, status: int, seconds: float) -> None:
    """Record one answer's latency (no-op when no session is recording)."""
    evidence = _CURRENT.get()
    if evidence is not None:
        evidence.timed(RequestTiming(operation, method, status, time.time(), seconds))


def observe_task(video_id: str, status: str | None, progress: int | None = None) -> None:
    """Record one read of a task (None: its creation); no-op when no session is recording."""
    evidence = _CURRENT.get()
    if evidence is not None:
        evidence.task(video_id, TaskSeen(time.time(), status, progress))


def unobserved(requirement: str, sentence: str) -> Unobserved:
    """The exception a check raises when its control failed (`raise unobserved(rid, "...")`)."""
    return Unobserved(requirement, sentence)
