"""Test control: the per-request `Prefer` header and the run-time scenario.

`Prefer: status=503, code=1010` forces this call's answer (Prism's keys work too: `code=` with an
HTTP status, 100-599, is that status; `example=NAME` answers the spec's example); on `video.generate`,
`outcome=finish|error; error_code=10003; duration=2.5` choose the task's fate. The scenario holds the
run-time faults (latency, random errors, dropped connections), the rate limit, the task timings and a
queue of fates for the next generate calls. It starts from the settings' scenario section
(`Settings.scenario`) and `reset()` returns there; its values are declared once, in
`mock_server.scenario_values.ScenarioFields` (which `Settings` inherits too), typed and validated when
they are built.

Where the scenario lives is a `ScenarioControl`: `LocalScenario` keeps it in this process (the embedded
server); `scale.shared_scenario.SharedScenario` keeps it in PostgreSQL for every replica. Either way
the layers read the one live `Scenario` object, which the control changes in place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any, Final, Protocol

from a2v_spec import ErrorCode
from mock_server.auth import tenant_id
from mock_server.errors import ApiError
from mock_server.scenario_values import (
    LatencyRange,
    Outcome,
    RateLimit,
    ScenarioFields,
    TaskFate,
    Timings,
)

__all__ = ["LocalScenario", "Prefer", "Scenario", "ScenarioControl", "parse_prefer"]

_PREFER_KEYS = {"status", "code", "outcome", "error_code", "duration", "example"}


@dataclass(frozen=True)
class Prefer:
    """What one request's `Prefer` header asks for: a forced answer and/or the task's fate."""

    status: int | None = None
    code: int | None = None
    fate: TaskFate = field(default_factory=TaskFate)
    #: Prism's `example=NAME`: answer the spec's named example.
    example: str | None = None

    @property
    def forces_answer(self) -> bool:
        return self.status is not None or self.code is not None or self.example is not None

    @property
    def wants_example(self) -> bool:
        """An example answers: asked by name, or a success status asked (Prism's `code=200`)."""
        return self.example is not None or (self.status is not None and 200 <= self.status < 300)


#: What a request without `Prefer` asks for (most requests: one frozen value, not one each).
_NO_PREFERENCE: Final = Prefer()


def _bad(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_PARAMETER, f"invalid parameter 'Prefer': {message}")


def parse_prefer(header: str | None) -> Prefer:
    """Parse `key=value` pairs separated by `,` or `;`; unknown keys (other Prefer uses) are ignored."""
    if not header:
        return _NO_PREFERENCE
    values: dict[str, Any] = {}
    for part in header.replace(";", ",").split(","):
        key, sep, value = part.strip().partition("=")
        key, value = key.strip().lower(), value.strip().strip('"')
        if not sep or key not in _PREFER_KEYS:
            continue
        try:
            if key == "code" and value.isdigit() and 100 <= int(value) <= 599:
                values["status"] = int(value)  # Prism's meaning: an HTTP status (catalog codes are not)
            elif key in ("status", "code"):
                values[key] = int(value)
            elif key == "example":
                if not value:
                    raise ValueError(value)
                values[key] = value
            elif key == "error_code":
                values[key] = ErrorCode(int(value))
            elif key == "duration":
                values[key] = float(value)
            else:
                values[key] = Outcome.parse(value)
        except ValueError as err:
            raise _bad(f"{key}={value!r} is not valid") from err
    try:
        fate = TaskFate(values.get("outcome"), values.get("error_code"), values.get("duration"))
    except ValueError as err:
        raise _bad(str(err)) from err
    return Prefer(values.get("status"), values.get("code"), fate, values.get("example"))


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return float(value)


@dataclass
class Scenario(ScenarioFields):
    """What `GET/PUT /__admin/scenario` shows and changes: the `ScenarioFields` and their random draws."""

    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_settings(cls, settings: ScenarioFields) -> Scenario:
        """The scenario `settings` start with (a `Settings`, or its `scenario` section)."""
        scenario = cls(**vars(settings.scenario_values()))
        scenario.rng.seed(settings.seed)
        return scenario

    def restore(self, settings: ScenarioFields) -> None:
        """Go back to the settings' scenario, in place (the layers hold this object)."""
        fresh = Scenario.from_settings(settings)
        for item in fields(self):
            setattr(self, item.name, getattr(fresh, item.name))

    def adopt(self, other: Scenario) -> None:
        """Take `other`'s values in place, keeping this random generator (and where it is in its
        sequence): a shared scenario read again reseeds only when a seed was set (`SharedScenario`)."""
        for item in fields(self):
            if item.name != "rng":
                setattr(self, item.name, getattr(other, item.name))

    @classmethod
    def of(cls, settings: ScenarioFields, body: dict[str, Any] | None) -> Scenario:
        """The settings' scenario with `body` (a `to_dict()`, or any partial update) merged in."""
        scenario = cls.from_settings(settings)
        if body:
            scenario.merge(body)
        return scenario

    def to_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms.to_dict(),
            "error_rate": self.error_rate,
            "drop_rate": self.drop_rate,
            "rate_limit": None if self.rate_limit is None else self.rate_limit.to_dict(),
            "timings": self.timings.to_dict(),
            "next_tasks": [fate.to_dict() for fate in self.next_tasks],
            "seed": self.seed,
            "url_ttl_seconds": self.url_ttl_seconds,
        }

    def merge(self, changes: dict[str, Any]) -> None:
        """Apply a partial update, validating every value first (all or nothing)."""
        unknown = sorted(set(changes) - set(self.to_dict()))
        if unknown:
            raise ValueError(f"unknown scenario key(s): {', '.join(unknown)}")
        latency, timings = self.latency_ms, self.timings
        if "latency_ms" in changes:
            latency = LatencyRange.from_value(changes["latency_ms"], latency)
        if "timings" in changes:
            timings = Timings.from_value(changes["timings"], timings)
        error_rate = _rate("error_rate", changes.get("error_rate", self.error_rate))
        drop_rate = _rate("drop_rate", changes.get("drop_rate", self.drop_rate))
        rate_limit = RateLimit.from_value(changes.get("rate_limit", self.rate_limit))
        tasks = changes.get("next_tasks", self.next_tasks) or []
        if not isinstance(tasks, list):
            raise ValueError("next_tasks must be a list")
        fates = [TaskFate.from_value(item) for item in tasks]
        ttl = changes.get("url_ttl_seconds", self.url_ttl_seconds)
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
            raise ValueError(f"url_ttl_seconds must be null or a whole number of seconds, got {ttl!r}")
        seed = changes.get("seed", self.seed)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be null or an integer, got {seed!r}")
        self.latency_ms, self.timings, self.rate_limit = latency, timings, rate_limit
        self.error_rate, self.drop_rate = error_rate, drop_rate
        self.next_tasks, self.url_ttl_seconds = fates, ttl
        if "seed" in changes:
            self.seed = seed
            self.rng.seed(seed)

    def take_next_task(self, tenant: str) -> TaskFate | None:
        """Pop the first queued fate meant for `tenant` (named by its id or its token), or for anyone."""
        for index, fate in enumerate(self.next_tasks):
            if fate.tenant is None or tenant in (fate.tenant, tenant_id(fate.tenant)):
                return self.next_tasks.pop(index)
        return None

    def latency(self) -> float:
        """Seconds to hold this request back."""
        return self.latency_ms.seconds(self.rng)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class ScenarioControl(Protocol):
    """Where the run-time scenario lives, and every change to it (the admin API, a reload, a generate
    taking a queued fate). `scenario` is the live object the layers read; the control changes it."""

    scenario: Scenario
    #: The values a reset returns to (the settings' `scenario` section), replaced by `--reload`.
    settings: ScenarioFields

    async def sync(self) -> None:
        """Bring `scenario` up to date (before each API or admin request)."""
        ...

    async def put(self, changes: dict[str, Any]) -> None:
        """Merge a partial update (all or nothing; ValueError/TypeError name the bad value)."""
        ...

    async def reset(self, tenant: str | None) -> None:
        """Forget what is kept per process for `tenant` (everything when None, which also returns the
        scenario to the settings')."""
        ...

    async def take_next_task(self, tenant: str) -> TaskFate | None:
        """Pop the first queued fate for `tenant` (`Scenario.take_next_task`), at most once overall."""
        ...


class ScenarioHolder(Protocol):
    """The parts that hold a value of the scenario (rate limiter, URL signer, cached answers)."""

    def take(self, scenario: Scenario) -> None:
        """Use `scenario`'s values from now on."""
        ...


class TenantMemory(Protocol):
    """What one process keeps per tenant that a reset must drop (journal entries, cached tokens)."""

    def forget(self, tenant: str | None) -> None:
        """Drop what is kept of `tenant` (everything when None)."""
        ...


class LocalScenario:
    """The embedded server's scenario: in this process only.

    `holder` takes the scenario's values (rate limiter, URL signer); `memory` drops what the process
    keeps for a tenant (journal, token cache) on a reset. Both are handed in: the control never calls
    back into the server that made it.
    """

    def __init__(
        self, scenario: Scenario, settings: ScenarioFields, holder: ScenarioHolder, memory: TenantMemory
    ) -> None:
        self.scenario = scenario
        #: The values a reset returns to (the settings' `scenario` section; `--reload` hands a new one).
        self.settings = settings
        self.holder = holder
        self.memory = memory

    async def sync(self) -> None:
        pass

    async def put(self, changes: dict[str, Any]) -> None:
        self.scenario.merge(changes)
        self.holder.take(self.scenario)

    async def reset(self, tenant: str | None) -> None:
        self.memory.forget(tenant)
        if tenant is None:
            self.scenario.restore(self.settings)
            self.holder.take(self.scenario)

    async def take_next_task(self, tenant: str) -> TaskFate | None:
        return self.scenario.take_next_task(tenant)
