"""The kit paces itself by the service's own rate-limit headers, so it never causes a 429.

Every answer carries `X-Ratelimit-Left` (requests left in the window) and `X-Ratelimit-Reset` (seconds
until it resets). `Pacer` keeps, per token, what the last answer said; before each request it takes one
from `left`, and when none is left it sleeps until the announced reset. It also counts the requests of
the run and stops it at `--max-requests` (the remaining checks are `blocked`, saying so).

Limits are counted per token by the upstream service ("30 requests per minute per developer"), so the
state is kept per `Authorization` header.

Example:
    >>> pacer = Pacer(max_requests=None)
    >>> client = A2VClient(url, key, event_hooks=pacer.hooks)   # doctest: +SKIP
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract_tests.evidence import Blocked

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from a2v_spec import Spec
    from contract_tests.config import Profile

__all__ = ["Pacer", "estimate_requests", "plan"]

#: Requests a run sends besides fuzzing, stateful steps and audio examples (checks of the realtime
#: operations, the shared tasks and their polling, files), measured against the mock.
_FIXED_REQUESTS = 110
#: Requests one lifecycle audio example takes (generate, about a dozen polls, a download).
_PER_AUDIO_EXAMPLE = 15


@dataclass
class _Window:
    left: int | None = None
    resets_at: float = 0.0
    total: int | None = None
    in_flight: int = 0
    #: The order number of the newest request whose answer set `left` (see `Pacer.after`).
    heard_from: int = 0


#: Where a request carries its order number from `Pacer.before` to `Pacer.after`.
_SEQ = "a2v_pacer_seq"


def _key(request: httpx.Request) -> str:
    """The window a request counts against: its bearer token; anything else (no header, another
    scheme, an empty token) shares the anonymous window, as a service counts it per client."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else ""


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class Pacer:
    """httpx event hooks: wait for the window's reset when no request is left; count; cap."""

    def __init__(
        self,
        max_requests: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_requests = max_requests
        self.clock = clock
        self.sleep = sleep
        self.sent = 0
        self.waited = 0.0
        self.rate_limited = 0  # 429 answers seen (the kit's pacing aims at none)
        #: Requests sent per bearer token ("" for anonymous: the kit's own traffic a window counts).
        self.sent_by_token: dict[str, int] = {}
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    @property
    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"request": [self.before], "response": [self.after]}

    def in_flight(self, token: str) -> int:
        """Requests with `token` sent and not yet answered."""
        with self._lock:
            window = self._windows.get(token)
            return window.in_flight if window is not None else 0

    @property
    def announced_total(self) -> int | None:
        """The largest `X-Ratelimit-Total` any answer announced."""
        totals = [w.total for w in self._windows.values() if w.total is not None]
        return max(totals) if totals else None

    def before(self, request: httpx.Request) -> None:
        """Take one request from the token's window, waiting for its reset when none is left.

        Thread-safe: the shared tasks poll from threads of their own while the checks run.
        """
        if self.max_requests is not None and self.sent >= self.max_requests:
            raise Blocked(f"blocked: the run reached --max-requests {self.max_requests}")
        key = _key(request)
        while True:
            with self._lock:
                window = self._windows.setdefault(key, _Window())
                now = self.clock()
                if window.left is not None and window.left <= 0 and now < window.resets_at:
                    pause = window.resets_at - now + 0.05
                else:
                    if window.left is not None and window.left <= 0:
                        window.left = window.total  # the window reset: its whole allowance again
                    if window.left is not None:
                        window.left -= 1
                    window.in_flight += 1
                    self.sent += 1
                    self.sent_by_token[key] = self.sent_by_token.get(key, 0) + 1
                    request.extensions[_SEQ] = self.sent
                    return
            self.sleep(pause)
            with self._lock:
                self.waited += pause

    def after(self, response: httpx.Response) -> None:
        left = _int(response.headers.get("x-ratelimit-left"))
        reset = _int(response.headers.get("x-ratelimit-reset"))
        with self._lock:
            if response.status_code == 429:
                self.rate_limited += 1
            window = self._windows.setdefault(_key(response.request), _Window())
            window.in_flight = max(0, window.in_flight - 1)
            if left is None or reset is None:
                return
            # Answers of parallel requests (the shared tasks poll from threads) come back in any order:
            # one to a request sent before the newest already heard from says less than is known (its
            # `Left` counts neither that newer request nor those in flight then), so it is not applied.
            seq = int(response.request.extensions.get(_SEQ, 0))
            if seq and seq < window.heard_from:
                return
            window.heard_from = seq
            # What the service says is left, less what the kit has sent and not yet heard back about.
            window.left = left - window.in_flight
            window.resets_at = self.clock() + reset
            window.total = _int(response.headers.get("x-ratelimit-total"))


def estimate_requests(profile: Profile, spec: Spec) -> int:
    """About how many requests a run of `profile` sends (an upper estimate: hypothesis may stop early)."""
    operations = list(spec.operations.values())
    fuzz_tests = len(operations) + sum(1 for op in operations if op.parameters or op.body_pointer)
    return (
        profile.fuzz_examples * fuzz_tests
        + profile.stateful_examples * profile.stateful_steps
        + profile.audio_examples * _PER_AUDIO_EXAMPLE
        + _FIXED_REQUESTS
    )


#: Polls per shared task per minute while it renders (the client backs off to one every 2 s).
POLLS_PER_TASK_MINUTE = 30


def plan(requests: int, total: int | None, max_requests: int | None) -> str:
    """The sentence printed before a run: the requests it needs and the time at the announced limit.

    Polling is on top: a service that renders for minutes costs about `POLLS_PER_TASK_MINUTE` requests
    per shared task and minute of rendering (measured: the service profile against a mock rendering
    for 5 minutes sent 503 requests for an estimate of 215).
    """
    needed = min(requests, max_requests) if max_requests else requests
    capped = f" (capped by --max-requests {max_requests})" if max_requests and max_requests < requests else ""
    polls = f", plus about {POLLS_PER_TASK_MINUTE} polls per running task and minute of rendering"
    if not total:
        return (
            f"this run needs about {needed} requests{capped}{polls}; "
            "the service announces no X-Ratelimit-Total"
        )
    windows = -(-needed // total)
    return (
        f"this run needs about {needed} requests{capped}{polls}; "
        f"at the announced limit of {total} per window "
        f"(X-Ratelimit-Total) that is {windows} window(s): about {windows} min with upstream's 60 s window"
    )
