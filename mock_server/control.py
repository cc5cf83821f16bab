"""Test control: the per-request `Prefer` header and the runtime scenario.

`Prefer: status=503, code=1010` forces this call's answer; on `video.generate`,
`outcome=finish|error; error_code=10003; duration=2.5` choose the task's fate. The scenario holds the
run-time faults (latency, random errors, dropped connections), the rate limit, the task timings and a
queue of fates for the next generate calls. It starts from `Settings` and `reset()` returns there.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_server.errors import ApiError

if TYPE_CHECKING:
    from mock_server.config import Settings

__all__ = ["Plan", "Prefer", "Scenario", "parse_prefer"]

_PREFER_KEYS = {"status", "code", "outcome", "error_code", "duration"}


@dataclass(frozen=True)
class Prefer:
    status: int | None = None
    code: int | None = None
    outcome: str | None = None
    error_code: int | None = None
    duration: float | None = None

    @property
    def forces_answer(self) -> bool:
        return self.status is not None or self.code is not None


@dataclass
class Plan:
    """A task's fate, fixed at generate time and stored with the task."""

    outcome: str = "finish"  # "finish" renders the real audio; "error" ends with error_code
    error_code: int = 1500
    duration: float | None = None  # total seconds, spread over pending and in_progressing

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "error_code": self.error_code, "duration": self.duration}


def _bad(message: str) -> ApiError:
    return ApiError(1003, f"invalid parameter 'Prefer': {message}")


def parse_prefer(header: str | None) -> Prefer:
    """Parse `key=value` pairs separated by `,` or `;`; unknown keys (other Prefer uses) are ignored."""
    if not header:
        return Prefer()
    values: dict[str, Any] = {}
    for part in header.replace(";", ",").split(","):
        key, sep, value = part.strip().partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if not sep or key not in _PREFER_KEYS:
            continue
        try:
            if key in ("status", "code", "error_code"):
                values[key] = int(value)
            elif key == "duration":
                values[key] = float(value)
                if not 0 <= values[key] <= 86400:
                    raise ValueError(value)
            else:
                if value not in ("finish", "finished", "error"):
                    raise ValueError(value)
                values[key] = "error" if value == "error" else "finish"
        except ValueError as err:
            raise _bad(f"{key}={value!r} is not valid") from err
    return Prefer(**values)


@dataclass
class Scenario:
    """What `GET/PUT /__admin/scenario` shows and changes."""

    latency_ms: dict[str, float] = field(default_factory=lambda: {"min": 0.0, "max": 0.0})
    error_rate: float = 0.0
    drop_rate: float = 0.0
    rate_limit: dict[str, float] | None = None
    timings: dict[str, float] = field(
        default_factory=lambda: {"pending_seconds": 0.0, "in_progress_seconds": 0.0}
    )
    next_tasks: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    #: Lifetime of URLs signed from now on; None means the limits' `url_ttl_seconds`. Negative values
    #: sign URLs that are already expired, to test a client's recovery.
    url_ttl_seconds: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Scenario:
        scenario = cls()
        scenario.merge(
            {
                "latency_ms": settings.latency_ms,
                "error_rate": settings.error_rate,
                "drop_rate": settings.drop_rate,
                "rate_limit": settings.rate_limit,
                "timings": settings.timings,
                "next_tasks": settings.next_tasks,
                "seed": settings.seed,
                "url_ttl_seconds": settings.url_ttl_seconds,
            }
        )
        return scenario

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": dict(self.latency_ms),
            "error_rate": self.error_rate,
            "drop_rate": self.drop_rate,
            "rate_limit": None if self.rate_limit is None else dict(self.rate_limit),
            "timings": dict(self.timings),
            "next_tasks": copy.deepcopy(self.next_tasks),
            "seed": self.seed,
            "url_ttl_seconds": self.url_ttl_seconds,
        }

    def merge(self, changes: dict[str, Any]) -> None:
        """Apply a partial update, validating every value first (all or nothing)."""
        unknown = sorted(set(changes) - set(self.to_dict()))
        if unknown:
            raise ValueError(f"unknown scenario key(s): {', '.join(unknown)}")
        new = self.to_dict()
        for key, value in changes.items():
            if key in ("latency_ms", "timings") and isinstance(value, dict):
                new[key].update(value)
            else:
                new[key] = value
        lat = new["latency_ms"] or {}
        lo, hi = float(lat.get("min", 0)), float(lat.get("max", lat.get("min", 0)))
        if lo < 0 or hi < lo:
            raise ValueError(f"latency_ms needs 0 <= min <= max, got {lat!r}")
        for key in ("error_rate", "drop_rate"):
            if not 0 <= float(new[key]) <= 1:
                raise ValueError(f"{key} must be between 0 and 1, got {new[key]!r}")
        timings = {k: float(v) for k, v in (new["timings"] or {}).items()}
        if set(timings) - {"pending_seconds", "in_progress_seconds"} or any(v < 0 for v in timings.values()):
            raise ValueError(f"timings takes pending_seconds and in_progress_seconds >= 0, got {timings!r}")
        rate = new["rate_limit"]
        if rate is not None and (not isinstance(rate, dict) or "requests" not in rate):
            raise ValueError(f"rate_limit must be null or {{requests, per_seconds}}, got {rate!r}")
        tasks = new["next_tasks"] or []
        if not isinstance(tasks, list):
            raise ValueError("next_tasks must be a list")
        for item in tasks:
            if not isinstance(item, dict) or set(item) - {"tenant", "outcome", "error_code", "duration"}:
                raise ValueError(f"next_tasks items take tenant, outcome, error_code, duration; got {item!r}")
            if item.get("outcome", "error") not in ("finish", "finished", "error"):
                raise ValueError(f"next_tasks outcome must be finish or error, got {item['outcome']!r}")
        ttl = new["url_ttl_seconds"]
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
            raise ValueError(f"url_ttl_seconds must be null or a whole number of seconds, got {ttl!r}")
        self.latency_ms = {"min": lo, "max": hi}
        self.error_rate, self.drop_rate = float(new["error_rate"]), float(new["drop_rate"])
        self.rate_limit = (
            None
            if rate is None
            else {"requests": int(rate["requests"]), "per_seconds": float(rate.get("per_seconds", 60))}
        )
        self.timings = {
            "pending_seconds": timings.get("pending_seconds", 0.0),
            "in_progress_seconds": timings.get("in_progress_seconds", 0.0),
        }
        self.url_ttl_seconds = ttl
        self.next_tasks = [dict(t) for t in tasks]
        if "seed" in changes or self.seed != new["seed"]:
            self.seed = new["seed"]
            self.rng.seed(self.seed)

    def take_next_task(self, tenant: str) -> dict[str, Any] | None:
        """Pop the first queued fate meant for `tenant` (or for anyone)."""
        for index, item in enumerate(self.next_tasks):
            if item.get("tenant") in (None, tenant):
                return self.next_tasks.pop(index)
        return None

    def latency(self) -> float:
        lo, hi = self.latency_ms["min"], self.latency_ms["max"]
        return (lo if hi <= lo else self.rng.uniform(lo, hi)) / 1000.0

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate
