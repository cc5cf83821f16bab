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
"""

from __future__ import annotations

import contextlib
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
    "Unobserved",
    "current",
    "observe",
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


class Evidence:
    """Observations per requirement id and kind, and the controls that failed."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.unjudged: dict[str, list[str]] = {}

    def saw(self, requirement: str, kind: str = JUDGED, n: int = 1) -> None:
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


def unobserved(requirement: str, sentence: str) -> Unobserved:
    """The exception a check raises when its control failed (`raise unobserved(rid, "...")`)."""
    return Unobserved(requirement, sentence)
