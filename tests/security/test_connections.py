"""Connections a stranger opens cannot be held for ever (issue 22, item 6): a request head not complete
within `HEAD_TIMEOUT`, a connection with nothing in flight for `IDLE_TIMEOUT` (one that never sends
anything included) are closed, and past `MAX_CONNECTIONS` an idle one makes room, else the newcomer is
refused with the 503 envelope. The limits are shortened here so the tests wait a fraction of a second;
the mock's own numbers are checked against docs/security.md."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from a2v_spec import ErrorCode
from a2v_testkit.protocol import default_max_connections
from mock_server.http import protocol as http
from mock_server.testing import run_server
from tests.a2v_testkit.test_protocol import closed, read_response

if TYPE_CHECKING:
    from collections.abc import Iterator

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(http, "HEAD_TIMEOUT", 0.5)
    monkeypatch.setattr(http, "IDLE_TIMEOUT", 0.5)
    monkeypatch.setattr(http, "MAX_CONNECTIONS", 3)
    with run_server(prewarm=False) as server:
        yield int(server.base_url.rsplit(":", 1)[1])


def test_a_head_sent_a_byte_at_a_time_is_cut_off(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /v1/ping HTTP/1.1\r\n")
        for _ in range(4):  # slowloris: a byte now and then
            time.sleep(0.15)
            conn.sendall(b"X")
        assert closed(conn)


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        assert closed(conn)


def test_a_kept_alive_connection_left_idle_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t\r\n\r\n")
        assert read_response(conn)[0].startswith(b"HTTP/1.1 200")
        assert closed(conn)


def test_past_the_cap_a_busy_server_refuses_with_the_envelope(port: int) -> None:
    holders = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        for conn in holders:  # each in the middle of a head: none idle, none to give way
            conn.sendall(b"GET /v1/ping HTTP/1.1\r\n")
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as extra:
            extra.settimeout(5)
            head, body = read_response(extra)
        assert head.startswith(b"HTTP/1.1 503")
        assert b"retry-after: 1" in head.lower()
        assert json.loads(body)["code"] == ErrorCode.SERVICE_UNAVAILABLE
    finally:
        for conn in holders:
            conn.close()


def test_past_the_cap_an_idle_connection_makes_room(port: int) -> None:
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", port)) as newcomer:
            newcomer.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t\r\n\r\n")
            assert read_response(newcomer)[0].startswith(b"HTTP/1.1 200")
    finally:
        for conn in idle:
            conn.close()


def test_the_numbers_are_the_documented_ones() -> None:
    limits = http.connection_limits(16384)
    text = DOC.read_text()
    section = text[text.index("## Connections") :]
    assert re.search(rf"\b{limits.head_timeout:g} s\b", section)
    assert re.search(rf"\b{limits.idle_timeout:g} s\b", section)
    assert limits.resolved().max_connections == min(1000, default_max_connections())
    assert "1000" in section
