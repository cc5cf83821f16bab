"""Expiry checks without their waits end to end: clocks start with the run, the checks run last.

A2V-LOGIN-EXPIRED and A2V-FILE-EXPIRES wait for a token's and a URL's lifetime to run out. Waited for
inside each check, one after the other, the two lifetimes were most of a quick run. Instead the token
is taken when the run starts (`early_login`, by the checks' autouse start-up fixture) and the URL is
the one the finished task was read with; the checks marked `WAITS_MARKER` run after every other check
(`run_waiting_checks_last`), so they wait only for what is left of the lifetimes, if anything.

The server's own clock decides when a lifetime ends, as `ping` tells it (the spec's clock: its `time`).
When the token or URL was handed out is that answer's `Date` header carried over to ping's clock
(`ping_clock_at`: ping's `time` less its own answer's `Date`, added to the earlier answer's `Date`), so a
service whose `ping` time and `Date` differ (Prism answers `ping` with the example's time) is judged on
one clock. `seconds_until` adds the margin that whole seconds need.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
    import pytest

    from contract_tests.client import A2VClient

__all__ = [
    "WAITS_MARKER",
    "EarlyLogin",
    "ServerClock",
    "early_login",
    "ping_clock_at",
    "run_waiting_checks_last",
    "seconds_until",
    "server_time",
]

#: Marks a check that waits for a clock started with the run: it runs after every other check.
WAITS_MARKER = "a2v_waits"

#: Past an expiry, in seconds of the server's clock, before a check relies on it: the clock is read in
#: whole seconds, and the implementation may compare with `>=` or `>`.
MARGIN = 1.5


@dataclass
class EarlyLogin:
    """`account.login` with throwaway credentials, sent as the run started: its answer, or what the
    request raised (re-raised by the check that reads it, never by the start-up fixture)."""

    response: httpx.Response | None
    error: Exception | None = None

    def answer(self) -> httpx.Response:
        if self.error is not None:
            raise self.error
        assert self.response is not None
        return self.response


def early_login(client: A2VClient) -> EarlyLogin:
    body = {"username": f"kit-{secrets.token_hex(6)}@example.invalid", "password": secrets.token_hex(8)}
    try:
        return EarlyLogin(client.request_operation("login", json_body=body, auth=False))
    except Exception as err:  # judged by the check that reads it, not by whichever check ran first
        return EarlyLogin(None, err)


def server_time(response: httpx.Response | None) -> int | None:
    """The server's clock when it sent `response` (its `Date` header, whole seconds), else None."""
    if response is None or "date" not in response.headers:
        return None
    try:
        return int(parsedate_to_datetime(response.headers["date"]).timestamp())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ServerClock:
    """The clock `ping` reports, read once: its time now, and when an earlier answer was sent."""

    #: `ping`'s time now (the local clock when `ping` gives none).
    now: int
    #: When the earlier answer was sent, on `ping`'s clock; None when an answer has no `Date`.
    at_answer: int | None


def ping_clock_at(client: A2VClient, answer: httpx.Response | None) -> ServerClock:
    """One ping now; the earlier `answer`'s `Date` carried over to ping's clock (ping's `time` less its
    own answer's `Date`)."""
    pong = client.ping()
    now = pong.time or int(time.time())
    sent, pinged = server_time(answer), server_time(client.last_response)
    if sent is None or pinged is None or not pong.time:
        return ServerClock(now, None)
    return ServerClock(now, sent + (pong.time - pinged))


def seconds_until(expires_at: int, server_now: int) -> float:
    """How long to sleep until `expires_at` has surely passed on a server whose clock reads `server_now`."""
    return max(0.0, expires_at + MARGIN - server_now)


def run_waiting_checks_last(items: list[pytest.Item]) -> None:
    """Move the checks marked `WAITS_MARKER` after the others, keeping each group's order."""
    items.sort(key=lambda item: item.get_closest_marker(WAITS_MARKER) is not None)
