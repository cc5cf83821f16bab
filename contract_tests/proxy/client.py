"""Judging the client: how it behaves over time, per token (what no single exchange shows).

Timing rules use the proxy's monotonic clock: a rule about "waiting N seconds after an answer" counts
from the moment the answer left the proxy (`Exchange.ended`) to the moment the next request arrived
(`Exchange.started`), with a small tolerance for scheduling jitter (`SLACK`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from a2v_spec import Status
from contract_tests.client import MAX_POLL_INTERVAL, POLL_INTERVAL
from contract_tests.requirement_ids import Req

if TYPE_CHECKING:
    from collections.abc import Iterator

    from contract_tests.proxy.exchange import Exchange
    from contract_tests.proxy.requests import Problem
    from contract_tests.proxy.urls import HandedOut

__all__ = ["ClientJudge", "Finding"]

SLACK = 0.05
#: After this many intervals without growing, a poll loop has not backed off.
BACKOFF_AFTER = 4
#: Query parameter names that carry credentials.
TOKEN_PARAMS = frozenset(
    {"token", "access_token", "api_key", "apikey", "key", "auth", "authorization", "bearer"}
)


@dataclass(frozen=True)
class Finding:
    requirement: str
    message: str
    expected: str = ""


@dataclass
class _Poll:
    started: float
    open: bool  # the task was not terminal at that poll
    intervals: list[float] = field(default_factory=list)
    fast_reported: bool = False
    backoff_reported: bool = False


@dataclass
class _Tenant:
    retry_at: float = 0.0
    retry_reason: str = ""
    generate_retry_at: float = 0.0
    left_zero_until: float = 0.0
    polls: dict[str, _Poll] = field(default_factory=dict)
    #: canonical body -> (Idempotency-Key, seq) of a generate the client did not get an answer to
    failed_generates: dict[str, tuple[str | None, int]] = field(default_factory=dict)


class ClientJudge:
    def __init__(self) -> None:
        self._tenants: dict[str | None, _Tenant] = {}

    def _tenant(self, name: str | None) -> _Tenant:
        return self._tenants.setdefault(name, _Tenant())

    def judge_api(
        self, exchange: Exchange, operation_id: str | None, problems: list[Problem], secrets: frozenset[str]
    ) -> Iterator[Finding]:
        if problems:
            yield Finding(
                Req.CLIENT_REQUEST_SCHEMA,
                "; ".join(p.message for p in problems),
                expected="a request this document describes",
            )
        yield from self.token_in_query(exchange, secrets)
        if operation_id in (None, "ping"):
            return
        state = self._tenant(exchange.tenant)
        yield from self._waits(exchange, operation_id, state)
        if operation_id == "getVideo":
            yield from self._poll(exchange, state)
        if operation_id == "generateVideo":
            yield from self._generate_retry(exchange, state)
        self._learn(exchange, operation_id, state)

    def token_in_query(self, exchange: Exchange, secrets: frozenset[str]) -> Iterator[Finding]:
        for name, value in exchange.params:
            if name.lower() in TOKEN_PARAMS or (value and value in secrets):
                yield Finding(
                    Req.CLIENT_TOKEN_IN_QUERY,
                    f"the query parameter {name!r} carries a credential",
                    expected="the token only in 'Authorization: Bearer <token>'",
                )
                return

    @staticmethod
    def expired_download(handed: HandedOut | None, now: float) -> Iterator[Finding]:
        if handed is not None and handed.expires_at is not None and now > handed.expires_at + 1:
            yield Finding(
                Req.CLIENT_EXPIRED_URL,
                f"the {handed.kind} was downloaded {now - handed.expires_at:.0f} s after its "
                f"url_expires_at ({handed.expires_at})",
                expected="read the video again for fresh URLs",
            )

    # -- rules ---------------------------------------------------------------------------------------
    def _waits(self, exchange: Exchange, operation_id: str, state: _Tenant) -> Iterator[Finding]:
        now = exchange.started
        if now < state.retry_at - SLACK:
            yield Finding(
                Req.CLIENT_RETRY_AFTER,
                f"a request {state.retry_at - now:.2f} s before the Retry-After of an earlier "
                f"{state.retry_reason} ran out",
                expected="wait Retry-After seconds",
            )
            state.retry_at = 0.0
        elif operation_id == "generateVideo" and now < state.generate_retry_at - SLACK:
            yield Finding(
                Req.CLIENT_RETRY_AFTER,
                f"video.generate retried {state.generate_retry_at - now:.2f} s before the Retry-After "
                "of an earlier 503 ran out",
                expected="wait Retry-After seconds",
            )
            state.generate_retry_at = 0.0
        elif now < state.left_zero_until - SLACK:
            yield Finding(
                Req.CLIENT_RATELIMIT_LEFT,
                f"a request {state.left_zero_until - now:.2f} s before the window reset, after an answer "
                "with X-Ratelimit-Left: 0",
                expected="no request until X-Ratelimit-Reset seconds have passed",
            )
            state.left_zero_until = 0.0

    def _poll(self, exchange: Exchange, state: _Tenant) -> Iterator[Finding]:
        video_id = dict(exchange.params).get("video_id")
        if not video_id or exchange.status != 200:
            if video_id:
                state.polls.pop(video_id, None)  # a refused poll ends the chain; Retry-After rules apply
            return
        body = exchange.json()
        data = body.get("data") if isinstance(body, dict) else None
        try:
            is_open = not Status(str(data.get("status"))).is_terminal if isinstance(data, dict) else False
        except ValueError:
            is_open = False
        previous = state.polls.get(video_id)
        poll = _Poll(exchange.started, is_open)
        if previous is not None and previous.open:
            interval = exchange.started - previous.started
            poll.intervals = [*previous.intervals, interval]
            poll.fast_reported, poll.backoff_reported = previous.fast_reported, previous.backoff_reported
            if interval < POLL_INTERVAL - SLACK and not poll.fast_reported:
                poll.fast_reported = True
                yield Finding(
                    Req.CLIENT_POLL_INTERVAL,
                    f"video {video_id} polled again after {interval:.2f} s",
                    expected=f"at least {POLL_INTERVAL:g} s between polls",
                )
            intervals = poll.intervals
            if (
                len(intervals) >= BACKOFF_AFTER
                and not poll.backoff_reported
                and intervals[-1] < MAX_POLL_INTERVAL * 0.95
                and intervals[-1] <= intervals[0] * 1.1
            ):
                poll.backoff_reported = True
                yield Finding(
                    Req.CLIENT_POLL_BACKOFF,
                    f"video {video_id} polled {len(intervals) + 1} times at intervals "
                    f"{', '.join(f'{i:.2f}' for i in intervals)} s without backing off",
                    expected=f"growing intervals (for example x1.5) up to {MAX_POLL_INTERVAL:g} s",
                )
        state.polls[video_id] = poll
        if len(state.polls) > 10_000:
            state.polls.pop(next(iter(state.polls)))

    def note_abandoned(self, exchange: Exchange) -> None:
        """A generate whose client hung up before the answer: a retry of it must repeat its key."""
        body = exchange.request_json()
        if isinstance(body, dict):
            state = self._tenant(exchange.tenant)
            state.failed_generates[json.dumps(body, sort_keys=True)] = (
                exchange.header("idempotency-key"),
                exchange.seq,
            )

    def _generate_retry(self, exchange: Exchange, state: _Tenant) -> Iterator[Finding]:
        body = exchange.request_json()
        if not isinstance(body, dict):
            return
        canonical = json.dumps(body, sort_keys=True)
        key = exchange.header("idempotency-key")
        failed = state.failed_generates.get(canonical)
        if failed is not None and failed[1] != exchange.seq:
            del state.failed_generates[canonical]
            first = failed[0]
            if not key or first != key:
                yield Finding(
                    Req.CLIENT_IDEMPOTENT_RETRY,
                    "video.generate was retried after a timeout "
                    + ("without an Idempotency-Key" if not key else f"with another key ({first!r} before)"),
                    expected="the same Idempotency-Key on the first attempt and every retry",
                )
        gave_up = (
            exchange.client_gave_up or exchange.upstream_error is not None or exchange.status in (502, 504)
        )
        if gave_up and failed is None:
            state.failed_generates[canonical] = (key, exchange.seq)

    @staticmethod
    def _learn(exchange: Exchange, operation_id: str, state: _Tenant) -> None:
        """Remember what the answer asks the client to wait for."""
        if exchange.status in (429, 503):
            wait = _seconds(exchange.header("retry-after", response=True))
            if wait is not None and exchange.status == 429:
                state.retry_at, state.retry_reason = exchange.ended + wait, "HTTP 429"
            elif wait is not None and operation_id == "generateVideo":
                state.generate_retry_at = exchange.ended + wait
            return
        if _seconds(exchange.header("x-ratelimit-left", response=True)) == 0:
            reset = _seconds(exchange.header("x-ratelimit-reset", response=True))
            if reset is not None:
                state.left_zero_until = exchange.ended + reset


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
