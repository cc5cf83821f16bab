"""How `a2v-contract proxy` serves (`contract_tests/proxy/cli.py`, `server_config`): the project's HTTP
protocol, so a connection it accepts has Nagle off, and a client's `Upgrade: h2c` request (Java's
`HttpClient`) reaches the upstream with its body."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest
import uvicorn

from a2v_testkit import ServerThread
from a2v_testkit.protocol import listen
from contract_tests.proxy import ProxyConfig, create_app
from contract_tests.proxy.cli import server_config
from tests.a2v_testkit.test_protocol import JAVA_UPGRADE, echo, nodelay_of_accepted, read_response

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def proxied() -> Iterator[tuple[uvicorn.Server, int]]:
    """The proxy as its CLI serves it, in front of an upstream that echoes what it received."""
    with ServerThread(echo) as upstream:
        server = uvicorn.Server(server_config(create_app(ProxyConfig(upstream=upstream.base_url))))
        sock = listen("127.0.0.1", 0)
        thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            yield server, sock.getsockname()[1]
        finally:
            server.should_exit = True
            thread.join(30)
            sock.close()


def test_an_h2c_post_reaches_the_upstream_with_its_body_and_nagle_is_off(
    proxied: tuple[uvicorn.Server, int],
) -> None:
    server, port = proxied
    body = b'{"model_id":"eva_a0008","audio_url":"http://127.0.0.1:9/a.wav"}'
    head = (
        b"POST /v1/a2v/video.generate HTTP/1.1\r\nHost: 127.0.0.1\r\n" + JAVA_UPGRADE
        + b"Authorization: Bearer t\r\nContent-Type: application/json\r\n"
        + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )  # fmt: skip
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head + body)
        status, answer = read_response(conn)
        assert status.startswith(b"HTTP/1.1 200")
        assert json.loads(answer)["body"] == body.decode()
        assert nodelay_of_accepted(server) == [1]
