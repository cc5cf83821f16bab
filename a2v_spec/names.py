"""Error codes and task statuses by name, checked against `openapi.yaml` when the spec loads.

The numbers and strings live in the spec; these enums give them names so that code says
`ErrorCode.VIDEO_NOT_FOUND` instead of `20002`. `check_names(document)` (called by `Spec`) fails loudly
when a code or a status is in one and not the other, so the two can never drift apart.

Example:
    >>> from a2v_spec import ErrorCode, Status
    >>> ErrorCode.TOO_MANY_REQUESTS
    <ErrorCode.TOO_MANY_REQUESTS: 1009>
    >>> Status.PENDING.precedes(Status.FINISHED), Status.ERROR.is_terminal
    (True, True)
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any


class ErrorCode(IntEnum):
    """Every row of `x-a2v-error-catalog`, by name. `SUCCESS` (0) is the envelope's success code."""

    SUCCESS = 0
    UNAUTHORIZED = 1001
    TOKEN_EXPIRED = 1002
    INVALID_PARAMETER = 1003
    MALFORMED_BODY = 1004
    UNSUPPORTED_MEDIA_TYPE = 1005
    METHOD_NOT_ALLOWED = 1006
    NOT_FOUND = 1007
    IDEMPOTENCY_CONFLICT = 1008
    TOO_MANY_REQUESTS = 1009
    QUEUE_FULL = 1010
    INVALID_CREDENTIALS = 1011
    FORBIDDEN = 1012
    PAYLOAD_TOO_LARGE = 1013
    SERVICE_UNAVAILABLE = 1014
    RANGE_NOT_SATISFIABLE = 1015
    HEADERS_TOO_LARGE = 1016
    INTERNAL_ERROR = 1500
    FILE_NOT_FOUND = 10001
    AUDIO_UNREACHABLE = 10002
    AUDIO_NOT_DECODABLE = 10003
    AUDIO_TOO_LONG = 10004
    AUDIO_TOO_LARGE = 10005
    AUDIO_TOO_SHORT = 10006
    TASK_TIMED_OUT = 10007
    MODEL_NOT_FOUND = 20001
    VIDEO_NOT_FOUND = 20002


class Status(StrEnum):
    """A task's status (`VideoStatus`), in lifecycle order: pending -> in_progressing -> finished | error."""

    PENDING = "pending"
    IN_PROGRESSING = "in_progressing"
    FINISHED = "finished"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Position in the lifecycle; the two terminal statuses share the last rank."""
        return _RANK[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    def precedes(self, other: Status) -> bool:
        """True when a task may move from `self` to `other` (strictly forward)."""
        return self.rank < other.rank


_RANK = {Status.PENDING: 0, Status.IN_PROGRESSING: 1, Status.FINISHED: 2, Status.ERROR: 2}
#: The statuses a task never leaves.
TERMINAL = frozenset({Status.FINISHED, Status.ERROR})
#: The statuses of a task that is still running.
UNFINISHED = frozenset(Status) - TERMINAL


def check_names(document: dict[str, Any]) -> None:
    """Raise ValueError naming every code or status that the spec and these enums do not share."""
    problems: list[str] = []
    catalog = {int(row["code"]) for row in document.get("x-a2v-error-catalog", [])}
    named = {int(code) for code in ErrorCode} - {ErrorCode.SUCCESS}
    if missing := sorted(catalog - named):
        problems.append(f"catalog codes with no ErrorCode name: {missing}")
    if extra := sorted(named - catalog):
        problems.append(f"ErrorCode names with no catalog row: {extra}")
    statuses = document.get("components", {}).get("schemas", {}).get("VideoStatus", {}).get("enum", [])
    if list(statuses) != [str(status) for status in Status]:
        problems.append(f"VideoStatus enum {statuses} differs from Status {[str(s) for s in Status]}")
    if problems:
        raise ValueError("openapi.yaml and a2v_spec.names disagree: " + "; ".join(problems))
