"""contract_tests.clocks: expiry checks run last on clocks started with the run (the whole-run order
is checked over a socket in test_kit_vs_mock.py), and a kit run loads no plugin it did not name."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from contract_tests.clocks import (
    MARGIN,
    WAITS_MARKER,
    ServerClock,
    early_login,
    ping_clock_at,
    run_waiting_checks_last,
    seconds_until,
    server_time,
)
from contract_tests.config import KitOptions
from contract_tests.requirement_ids import Req
from contract_tests.runner import _only_named_plugins, run_with_exit_code
from mock_server.testing import run_server


def _item(name: str, *, waits: bool = False) -> Any:
    marker = pytest.mark.a2v_waits.mark if waits else None
    return SimpleNamespace(name=name, get_closest_marker=lambda m: marker if m == WAITS_MARKER else None)


def test_waiting_checks_move_last_and_both_groups_keep_their_order() -> None:
    items = [_item("a"), _item("wait-1", waits=True), _item("b"), _item("wait-2", waits=True), _item("c")]
    run_waiting_checks_last(items)
    assert [i.name for i in items] == ["a", "b", "c", "wait-1", "wait-2"]


def test_server_time_reads_the_date_header_in_whole_seconds() -> None:
    answer = httpx.Response(200, headers={"Date": "Mon, 07 Dec 2026 04:30:05 GMT"})
    assert server_time(answer) == 1796617805
    assert server_time(httpx.Response(200)) is None
    assert server_time(httpx.Response(200, headers={"Date": "yesterday"})) is None
    assert server_time(None) is None


class _Pinged:
    """A client whose ping answers `time` in an answer sent at `date`."""

    def __init__(self, time: int, date: str | None) -> None:
        self.time = time
        self.last_response = httpx.Response(200, headers={"Date": date} if date else {})

    def ping(self) -> Any:
        return SimpleNamespace(time=self.time)


def test_an_answers_date_is_carried_over_to_pings_clock() -> None:
    """Prism answers ping with the example's time, far from its Date: an earlier answer's Date, 10 s
    before the ping's, is 10 s before ping's time on ping's clock."""
    earlier = httpx.Response(200, headers={"Date": "Mon, 07 Dec 2026 04:30:05 GMT"})
    clock = ping_clock_at(_Pinged(1764237600, "Mon, 07 Dec 2026 04:30:15 GMT"), earlier)  # type: ignore[arg-type]
    assert clock == ServerClock(now=1764237600, at_answer=1764237590)
    without_date = ping_clock_at(_Pinged(1764237600, None), earlier)  # type: ignore[arg-type]
    assert without_date == ServerClock(now=1764237600, at_answer=None)


def test_the_wait_ends_a_margin_past_the_expiry_on_the_servers_clock() -> None:
    assert seconds_until(100, 97) == 3 + MARGIN
    assert seconds_until(100, 100) == MARGIN
    assert seconds_until(100, 105) == 0.0  # long past: no wait at all


def test_an_early_login_that_raises_is_raised_by_the_check_that_reads_it() -> None:
    class Down:
        def request_operation(self, *args: object, **kwargs: object) -> httpx.Response:
            raise httpx.ConnectError("refused")

    login = early_login(Down())  # type: ignore[arg-type]  # the start-up fixture must not raise
    with pytest.raises(httpx.ConnectError):
        login.answer()


def test_plugin_autoload_is_off_only_during_a_kit_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    with _only_named_plugins():
        assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"
    assert "PYTEST_DISABLE_PLUGIN_AUTOLOAD" not in os.environ
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "")
    with _only_named_plugins():
        pass
    assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == ""


def _logins(base_url: str) -> int:
    answer = httpx.get(f"{base_url}/__admin/requests/count", params={"path": "/v1/auth/account.login"})
    return int(answer.json()["data"]["count"])


@pytest.mark.slow
def test_the_early_login_is_sent_only_when_its_check_is_selected() -> None:
    """`--only A2V-LOGIN` sends the login check's own request and no early one; `--only
    A2V-LOGIN-EXPIRED` sends exactly the early one, and its check passes on a short token lifetime."""
    with run_server(audio_hosts=["127.0.0.1"], limits={"access_token_ttl_seconds": 2}) as server:
        options: dict[str, Any] = {"base_url": server.base_url, "api_key": "clock-a", "timeout": 30.0}
        login = run_with_exit_code(KitOptions(**options, only=[Req.LOGIN]))
        assert login.report.outcomes()[Req.LOGIN] == "passed", login.report.text()
        assert _logins(server.base_url) == 1
        expiry = run_with_exit_code(KitOptions(**options, only=[Req.LOGIN_EXPIRED]))
        assert expiry.report.outcomes()[Req.LOGIN_EXPIRED] == "passed", expiry.report.text()
        assert _logins(server.base_url) == 2
