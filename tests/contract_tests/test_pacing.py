"""The kit paces itself by X-Ratelimit-Left/Reset, never causing a 429, and stops at --max-requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_spec import load_spec
from contract_tests.config import PROFILES
from contract_tests.evidence import Blocked
from contract_tests.pacing import Pacer, estimate_requests, plan
from contract_tests.requirement_ids import Req

if TYPE_CHECKING:
    from mock_server.config import Settings
    from tests.contract_tests.conftest import RunKit


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 2))
        self.now += seconds


def _exchange(pacer: Pacer, left: int, reset: int, token: str = "a") -> None:
    request = httpx.Request(
        "GET", "http://svc/v1/a2v/character.list", headers={"Authorization": f"Bearer {token}"}
    )
    pacer.before(request)
    headers = {"X-Ratelimit-Total": "3", "X-Ratelimit-Left": str(left), "X-Ratelimit-Reset": str(reset)}
    pacer.after(httpx.Response(200, headers=headers, request=request))


def test_waits_for_the_reset_only_when_nothing_is_left() -> None:
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    _exchange(pacer, left=1, reset=10)
    _exchange(pacer, left=0, reset=9)
    assert fake.slept == []
    _exchange(pacer, left=2, reset=60, token="b")  # another token has its own window
    assert fake.slept == []
    _exchange(pacer, left=2, reset=60)  # nothing left for "a": wait for its reset, 9 s away
    assert fake.slept == [9.05]
    assert pacer.sent == 4
    assert pacer.announced_total == 3


def test_an_answer_that_comes_back_after_a_newer_one_does_not_raise_what_is_left() -> None:
    """Two requests in flight (a task's poll and a check): the newer one's answer (Left 1) arrives
    first; the older one's (Left 2, counted before the newer request) must not give back a request
    the window no longer has, or the kit sends one too many and meets a 429."""
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    _exchange(pacer, left=3, reset=10)  # the window is known: 3 left
    older, newer = (
        httpx.Request("GET", "http://svc/v1/ping", headers={"Authorization": "Bearer a"}) for _ in range(2)
    )
    pacer.before(older)
    pacer.before(newer)

    def answer(request: httpx.Request, left: int) -> None:
        headers = {"X-Ratelimit-Total": "3", "X-Ratelimit-Left": str(left), "X-Ratelimit-Reset": "10"}
        pacer.after(httpx.Response(200, headers=headers, request=request))

    answer(newer, 1)  # the service counted both: 1 left
    answer(older, 2)
    sent_before_waiting = 0
    while not fake.slept:
        pacer.before(httpx.Request("GET", "http://svc/v1/ping", headers={"Authorization": "Bearer a"}))
        sent_before_waiting += not fake.slept
    assert sent_before_waiting <= 1  # what the service has left, at most
    assert fake.slept == [10.05]


def test_stops_at_max_requests() -> None:
    pacer = Pacer(max_requests=2)
    _exchange(pacer, left=5, reset=60)
    _exchange(pacer, left=4, reset=60)
    with pytest.raises(Blocked, match="--max-requests 2"):
        _exchange(pacer, left=3, reset=60)


@pytest.mark.slow
def test_the_quick_profile_under_a_rate_limit_causes_no_429(run_kit: RunKit, mock_settings: Settings) -> None:
    """The mock allows 15 requests per 2 s per token: the kit waits for windows instead of hitting 429."""
    from mock_server.runtime.app import create_app

    app = create_app(mock_settings.replace(rate_limit={"requests": 15, "per_seconds": 2}))
    result = run_kit(app, seed=1, skip=["fuzz", "stateful"])
    traffic = result.report.traffic
    assert traffic["answered_429"] == 0, result.report.text()
    assert traffic["waited_for_windows"] > 0, traffic
    assert result.exit_code == 0, result.report.text()


@pytest.mark.slow
def test_max_requests_blocks_the_rest_and_says_so(run_kit: RunKit, mock_settings: Settings) -> None:
    from mock_server.runtime.app import create_app

    result = run_kit(create_app(mock_settings), seed=1, max_requests=15, only=["A2V-ERROR-*", Req.PING])
    requirements = result.report.requirements()
    assert result.report.traffic["requests"] == 15
    blocked = [rid for rid, r in requirements.items() if r.outcome == "blocked"]
    assert blocked, result.report.text()
    assert all(any("--max-requests 15" in n for n in requirements[rid].notes) for rid in blocked)


@pytest.mark.parametrize(
    ("requests", "total", "cap", "says"),
    [
        (245, 30, None, "about 245 requests, plus about 30 polls per running task and minute"),
        (245, 30, None, "at the announced limit of 30 per window"),
        (245, 30, None, "that is 9 window(s)"),
        (245, 30, 100, "about 100 requests (capped by --max-requests 100)"),
        (245, None, None, "announces no X-Ratelimit-Total"),
    ],
)
def test_plan_says_requests_and_time(requests: int, total: int | None, cap: int | None, says: str) -> None:
    assert says in plan(requests, total, cap)


def test_estimate_grows_with_the_profile() -> None:
    spec = load_spec()
    assert estimate_requests(PROFILES["quick"], spec) < estimate_requests(PROFILES["full"], spec)


@pytest.mark.slow
def test_the_opt_in_429_check_passes_on_the_mock(run_kit: RunKit, mock_settings: Settings) -> None:
    """The one requirement that provokes a 429 does so on purpose, and the paced checks see none."""
    from mock_server.runtime.app import create_app

    app = create_app(mock_settings.replace(rate_limit={"requests": 10, "per_seconds": 3}))
    result = run_kit(app, seed=1, only=["A2V-RATELIMIT-*"], provoke_429=True)
    outcomes = result.report.outcomes()
    assert result.exit_code == 0, result.report.text()
    for rid in (Req.RATELIMIT_HEADERS, Req.RATELIMIT_ARITHMETIC, Req.RATELIMIT_429):
        assert outcomes[rid] == "passed", result.report.text()
    assert result.report.traffic["answered_429"] == 0
