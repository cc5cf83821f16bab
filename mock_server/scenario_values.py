"""Typed values shared by `Settings` (start-up) and the run-time `Scenario`, each validated once.

A value is built from its dataclass or from the plain mapping a config file or `PUT /__admin/scenario`
sends (`from_value`), and its `__post_init__` is the only place its range is checked; `to_dict` gives
the JSON the admin API shows. `Plan` is a task's fate as stored with the task. `ScenarioFields` declares
the scenario's values once: `Settings` (their start-up values) and the run-time `Scenario` both inherit it.

Example:
    >>> Timings.from_value({"pending_seconds": 2}).in_progress_seconds
    0.0
    >>> Timings.from_value({"in_progress_seconds": 1}).pending_seconds
    0.3
    >>> RateLimit.from_value({"requests": 30}).per_seconds
    60.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode

if TYPE_CHECKING:
    import random

__all__ = [
    "LatencyRange",
    "Outcome",
    "Plan",
    "RateLimit",
    "Replayed",
    "ScenarioFields",
    "TaskFate",
    "Timings",
]


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _mapping(name: str, value: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a mapping of {', '.join(sorted(keys))}, got {value!r}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise ValueError(f"{name} takes {', '.join(sorted(keys))}; unknown: {', '.join(unknown)}")
    return value


class Outcome(StrEnum):
    """How a task planned by test control ends: `finish` renders the real audio, `error` fails it."""

    FINISH = "finish"
    ERROR = "error"

    @classmethod
    def parse(cls, value: Any) -> Outcome:
        if value in ("finish", "finished"):
            return cls.FINISH
        if value == "error":
            return cls.ERROR
        raise ValueError(f"outcome must be finish or error, got {value!r}")


@dataclass(frozen=True)
class LatencyRange:
    """Latency added to every API request, drawn uniformly from [min, max] milliseconds."""

    min: float = 0.0
    max: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.min <= self.max:
            raise ValueError(f"latency_ms needs 0 <= min <= max, got min={self.min:g}, max={self.max:g}")

    @classmethod
    def from_value(cls, value: Any, base: LatencyRange | None = None) -> LatencyRange:
        """From a mapping (`max` defaults to `min`); keys missing from it keep `base`'s values."""
        if isinstance(value, cls):
            return value
        data = _mapping("latency_ms", value, {"min", "max"})
        low = _number("latency_ms.min", data["min"]) if "min" in data else (base.min if base else 0.0)
        high = (
            _number("latency_ms.max", data["max"]) if "max" in data else max(low, base.max if base else low)
        )
        return cls(low, high)

    def seconds(self, rng: random.Random) -> float:
        return (self.min if self.max <= self.min else rng.uniform(self.min, self.max)) / 1000.0

    def to_dict(self) -> dict[str, float]:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class RateLimit:
    """`requests` per `per_seconds` for each token."""

    requests: int
    per_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.requests < 0 or self.per_seconds <= 0:
            got = f"{self.requests}/{self.per_seconds:g}"
            raise ValueError(f"rate_limit needs requests >= 0 and per_seconds > 0, got {got}")

    @classmethod
    def from_value(cls, value: Any) -> RateLimit | None:
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, dict) or "requests" not in value:
            raise ValueError(f"rate_limit must be null or {{requests, per_seconds}}, got {value!r}")
        data = _mapping("rate_limit", value, {"requests", "per_seconds"})
        requests = data["requests"]
        if isinstance(requests, bool) or not isinstance(requests, int):
            raise ValueError(f"rate_limit.requests must be a whole number, got {requests!r}")
        return cls(requests, _number("rate_limit.per_seconds", data.get("per_seconds", 60.0)))

    def to_dict(self) -> dict[str, float]:
        return {"requests": self.requests, "per_seconds": self.per_seconds}


@dataclass(frozen=True)
class Timings:
    """Minimum seconds a task spends in `pending` and in `in_progressing`.

    By default a task stays `pending` for 0.3 s, as a real service's task does for a while: a client
    that reads its task at once sees the lifecycle start where the spec says it does (and the kit can
    observe it), at little cost to anyone waiting for the video."""

    pending_seconds: float = 0.3
    in_progress_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.pending_seconds < 0 or self.in_progress_seconds < 0:
            raise ValueError(f"timings must be >= 0 seconds, got {self.to_dict()}")

    @classmethod
    def from_value(cls, value: Any, base: Timings | None = None) -> Timings:
        """From a mapping; keys missing from it keep `base`'s values."""
        if isinstance(value, cls):
            return value
        data = _mapping("timings", value, {f.name for f in fields(cls)})
        return replace(base or cls(), **{k: _number(f"timings.{k}", v) for k, v in data.items()})

    @classmethod
    def spread(cls, duration: float) -> Timings:
        """`duration` seconds in all: 30 % pending, 70 % in progress."""
        return cls(0.3 * duration, 0.7 * duration)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class TaskFate:
    """The end chosen for a coming task (a `next_tasks` item, or the `Prefer` header of one call).

    `outcome` None leaves the task to render its audio. `tenant` None means any tenant's next task.
    """

    outcome: Outcome | None = None
    error_code: ErrorCode | None = None
    duration: float | None = None
    tenant: str | None = None

    def __post_init__(self) -> None:
        if self.duration is not None and not 0 <= self.duration <= 86400:
            raise ValueError(f"duration must be 0-86400 seconds, got {self.duration:g}")

    @classmethod
    def from_value(cls, value: Any) -> TaskFate:
        """A `next_tasks` item: `outcome` defaults to error there, as the queue is for failures."""
        if isinstance(value, cls):
            return value
        data = _mapping("next_tasks item", value, {"tenant", "outcome", "error_code", "duration"})
        tenant = data.get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise ValueError(f"next_tasks tenant must be a string, got {tenant!r}")
        code = data.get("error_code")
        return cls(
            outcome=Outcome.parse(data.get("outcome", "error")),
            error_code=None if code is None else _code(code),
            duration=None if data.get("duration") is None else _number("duration", data["duration"]),
            tenant=tenant,
        )

    def to_dict(self) -> dict[str, Any]:
        """Only the keys that were given (the admin API echoes what it was sent)."""
        return {k: (int(v) if k == "error_code" else str(v) if k == "outcome" else v)
                for k, v in asdict(self).items() if v is not None}  # fmt: skip


def _code(value: Any) -> ErrorCode:
    try:
        return ErrorCode(int(value))
    except (TypeError, ValueError):
        raise ValueError(f"error_code {value!r} is not in the error catalog") from None


@dataclass
class ScenarioFields:
    """The run-time scenario's values, declared once: `Settings` holds their start-up values (config keys,
    `A2V_*` variables, keywords) and `api.scenario.Scenario` the live ones, both by inheriting this.

    Mappings (as a config file gives them) become their typed values here; each value checks its range.
    """

    #: `{min: 0, max: 0}` milliseconds added to every API request.
    latency_ms: LatencyRange = field(default_factory=LatencyRange)
    error_rate: float = 0.0
    drop_rate: float = 0.0
    #: `{requests: 30, per_seconds: 60}` or None (a large limit, still reported in headers).
    rate_limit: RateLimit | None = None
    #: Minimum seconds per status: `{pending_seconds: 0.3, in_progress_seconds: 0}`.
    timings: Timings = field(default_factory=Timings)
    #: Fates of the next `video.generate` calls: `[{tenant, outcome, error_code, duration}]`.
    next_tasks: list[TaskFate] = field(default_factory=list)
    seed: int | None = None
    #: Lifetime of URLs signed from now on; None means the limits' `url_ttl_seconds`. Negative values
    #: sign URLs that are already expired, to test a client's recovery.
    url_ttl_seconds: int | None = None

    def __post_init__(self) -> None:
        self.latency_ms = LatencyRange.from_value(self.latency_ms)
        self.timings = Timings.from_value(self.timings)
        self.rate_limit = RateLimit.from_value(self.rate_limit)
        if isinstance(self.next_tasks, list):
            self.next_tasks = [TaskFate.from_value(item) for item in self.next_tasks]

    def scenario_values(self) -> ScenarioFields:
        """A copy of just these values (the list of next tasks copied too, so it is never shared)."""
        values = {item.name: getattr(self, item.name) for item in fields(ScenarioFields)}
        return ScenarioFields(**{**values, "next_tasks": list(self.next_tasks)})


@dataclass(frozen=True)
class Replayed:
    """What a task replayed from a recording (`mock_server.tasks.replay`) takes from it besides its timings:
    the recorded error message, duration and result files (None: render its own)."""

    error_message: str | None = None
    duration: float | None = None
    video_file: str | None = None
    mask_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Replayed | None:
        if not isinstance(data, dict):
            return None
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})


@dataclass(frozen=True)
class Plan:
    """A task's fate, fixed when it is accepted and stored with it (a restart goes on from here)."""

    outcome: Outcome = Outcome.FINISH
    error_code: ErrorCode = ErrorCode.INTERNAL_ERROR
    timings: Timings = Timings()
    #: When the task was accepted (unix seconds); the timings count from here.
    accepted_at: float = 0.0
    #: How the client addressed the server, for the URLs of the callback body.
    base_url: str = ""
    #: Set when the task replays a recorded one (`a2v-mock --replay`).
    replayed: Replayed | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "error_code": int(self.error_code),
            **self.timings.to_dict(),
            "accepted_at": self.accepted_at,
            "base_url": self.base_url,
            **({"replayed": self.replayed.to_dict()} if self.replayed is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], created_at: float) -> Plan:
        return cls(
            outcome=Outcome.parse(data.get("outcome", "finish")),
            error_code=_code(data.get("error_code", ErrorCode.INTERNAL_ERROR)),
            timings=Timings(
                float(data.get("pending_seconds", 0.0)), float(data.get("in_progress_seconds", 0.0))
            ),
            accepted_at=float(data.get("accepted_at", created_at)),
            base_url=str(data.get("base_url", "")),
            replayed=Replayed.from_dict(data.get("replayed")),
        )
