"""mock_server/http/protocol.py and the way `a2v-mock` serves: Nagle off on every connection the mock accepts
(the 44 ms stall per kept-alive request), and a request Java's `HttpClient` sends (`Upgrade: h2c`)
answered as plain HTTP/1.1 with its body read.

Observed on the server's side (the socket option of the connection it accepted) and on the wire, never
by timing."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.config import Settings
from mock_server.runtime.app import create_app
from mock_server.runtime.startup import bind, serve_with
from mock_server.testing import run_server
from tests.a2v_testkit.test_protocol import JAVA_UPGRADE, nodelay_of_accepted, read_response

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import uvicorn


@pytest.fixture
def cli_server(tmp_path: Path) -> Iterator[tuple[uvicorn.Server, int]]:
    """The mock as `a2v-mock` serves it: the socket `bind` made, the server `serve_with` builds."""
    settings = Settings(data_dir=tmp_path, host="127.0.0.1", port=0, prewarm=False)
    sock = bind(settings.host, 0)
    settings = settings.replace(port=sock.getsockname()[1])
    server = serve_with(settings, create_app(settings))
    server.config.log_level = "warning"
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield server, settings.port
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def ping(port: int) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t\r\n\r\n")
    head, _ = read_response(conn)
    assert head.startswith(b"HTTP/1.1 200")
    return conn


def test_the_socket_the_cli_binds_is_tcp() -> None:
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio turns Nagle off only for these


def test_a_connection_the_cli_server_accepts_has_nagle_off(cli_server: tuple[Any, int]) -> None:
    server, port = cli_server
    with ping(port):
        assert nodelay_of_accepted(server) == [1]


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_a_connection_the_test_server_accepts_has_nagle_off(http: str) -> None:
    """`run_server` (the partner fixture `a2v_server`, the scale tests' replicas) serves the same way."""
    with run_server(http=http, prewarm=False) as running, ping(int(running.base_url.rsplit(":", 1)[1])):
        assert running.thread is not None
        assert nodelay_of_accepted(running.thread.server) == [1]


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_java_httpclients_h2c_upgrade_generate_is_answered_with_its_body_read(http: str) -> None:
    with run_server(http=http, prewarm=False) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        body = json.dumps(
            {"model_id": "eva_a0008", "audio_url": f"{running.base_url}/samples/hello.wav"}
        ).encode()
        head = (
            b"POST /v1/a2v/video.generate HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Java-http-client/21\r\n"
            + JAVA_UPGRADE
            + b"Authorization: Bearer java\r\nContent-Type: application/json\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )  # fmt: skip
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(head + body)
            status, answer = read_response(conn)
            assert status.startswith(b"HTTP/1.1 200 OK"), answer
            envelope = json.loads(answer)
            assert envelope["code"] == 0
            assert envelope["data"]["video_id"]
            conn.sendall(b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer java\r\n\r\n")
            assert read_response(conn)[0].startswith(b"HTTP/1.1 200")  # still HTTP/1.1


@pytest.mark.parametrize("http", ["httptools", "h11"])
@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nBad Header Name: x\r\n\r\n",  # a space in a field name
        b"NOT A REQUEST LINE\r\n\r\n",
        b"GET /v1/ping HTTP/1.1\r\nHost: t\r\nContent-Length: ten\r\n\r\n",
    ],
)
def test_a_request_the_parser_rejects_gets_the_400_envelope_and_the_connection_closes(
    http: str, request_bytes: bytes
) -> None:
    with run_server(http=http, prewarm=False) as running:
        port = int(running.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(request_bytes)
            head, body = read_response(conn)
            assert head.startswith(b"HTTP/1.1 400")
            assert b"content-type: application/json" in head.lower()
            envelope = json.loads(body)
            assert envelope["code"] == 1003
            assert "could not be parsed as HTTP/1.1" in envelope["message"]
            conn.settimeout(5)
            assert conn.recv(1) == b""  # closed: nothing more is read from a stream that lost its framing
