"""a2v_testkit.protocol: Nagle off on every accepted connection, an upgrade it does not take served as
plain HTTP/1.1 with its body, bounded heads, idle connections closed, connections capped.

Every observation is made on the server's side (its protocol objects and their sockets) or on the wire;
nothing here measures a duration to decide."""

from __future__ import annotations

import json
import socket
import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit.protocol import ConnectionLimits, OneWritePerTurn, listen, protocol_class
from a2v_testkit.server import ServerThread

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.types import Receive, Scope, Send

#: The headers Java's `HttpClient` adds to every request on an `http://` URL (HTTP/2 by default).
JAVA_UPGRADE = (
    b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
)


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers the path and the whole body it read, as JSON."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    out = json.dumps({"path": scope["path"], "body": body.decode()}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": out})


def read_response(conn: socket.socket) -> tuple[bytes, bytes]:
    """One response's head and body (by its content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head, body


def closed(conn: socket.socket, within: float = 10.0) -> bool:
    """True once the server closed `conn` (waits at most `within` seconds for it)."""
    conn.settimeout(within)
    try:
        while conn.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


@pytest.fixture(params=["httptools", "h11"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerThread]:
    limits = ConnectionLimits(head_timeout=0.5, idle_timeout=0.5, max_connections=4)
    with ServerThread(echo, http=protocol_class(limits, http=request.param)) as running:
        yield running


def nodelay_of_accepted(server: Any) -> list[int]:
    """TCP_NODELAY of every connection the uvicorn server `server` holds, read on its own sockets."""
    return [
        conn.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        for conn in server.server_state.connections
    ]


def test_listen_makes_a_tcp_socket_so_asyncio_turns_nagle_off() -> None:
    with listen("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_every_accepted_connection_has_nagle_off_even_on_a_socket_made_without_tcp(
    server: ServerThread,
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        read_response(conn)
        assert nodelay_of_accepted(server.server) == [1]


def test_a_socket_from_elsewhere_still_gets_nagle_off() -> None:
    """A listening socket made with protocol 0 (as `--fd` or a test's own may be): asyncio leaves Nagle
    on for its connections; the protocol turns it off."""
    import asyncio

    import uvicorn

    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind(("127.0.0.1", 0))
    raw.listen()
    assert raw.proto == 0
    server = uvicorn.Server(uvicorn.Config(echo, http=protocol_class(), log_level="warning"))
    import threading

    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[raw])), daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        with socket.create_connection(raw.getsockname()) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            read_response(conn)
            assert nodelay_of_accepted(server) == [1]
    finally:
        server.should_exit = True
        thread.join(10)
        raw.close()


@pytest.mark.parametrize("split", [False, True], ids=["one-write", "body-later"])
def test_an_h2c_upgrade_is_answered_as_http_1_1_with_its_body(server: ServerThread, split: bool) -> None:
    body = b'{"model_id":"eva_a0008","audio_url":"http://127.0.0.1/a.wav"}'
    head = (
        b"POST /v1/a2v/video.generate HTTP/1.1\r\nHost: t\r\n" + JAVA_UPGRADE
        + b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )  # fmt: skip
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        for _ in range(2):  # and the connection goes on as HTTP/1.1
            if split:
                conn.sendall(head)
                time.sleep(0.05)
                conn.sendall(body)
            else:
                conn.sendall(head + body)
            status, answer = read_response(conn)
            assert status.startswith(b"HTTP/1.1 200")
            assert json.loads(answer) == {"path": "/v1/a2v/video.generate", "body": body.decode()}
        conn.sendall(b"GET /after HTTP/1.1\r\nHost: t\r\n\r\n")
        assert json.loads(read_response(conn)[1]) == {"path": "/after", "body": ""}


def test_a_chunked_body_of_an_upgrade_request_is_read_too(server: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(
            b"POST /c HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        )
        assert json.loads(read_response(conn)[1]) == {"path": "/c", "body": "hello world"}


def test_a_head_not_complete_in_time_closes_the_connection(server: ServerThread) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        for _ in range(3):  # a byte now and then does not keep it open
            time.sleep(0.1)
            conn.sendall(b"X")
        assert closed(conn)


@pytest.mark.parametrize("answered_first", [False, True], ids=["never-sent", "after-an-answer"])
def test_an_idle_connection_is_closed(server: ServerThread, answered_first: bool) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        if answered_first:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            read_response(conn)
        assert closed(conn)


def test_past_the_cap_the_longest_idle_connection_makes_room(server: ServerThread) -> None:
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        newest = socket.create_connection(("127.0.0.1", server.port))
        newest.sendall(b"GET /new HTTP/1.1\r\nHost: t\r\n\r\n")
        assert json.loads(read_response(newest)[1])["path"] == "/new"
        assert closed(idle[0], within=2)
        newest.close()
    finally:
        for conn in idle:
            conn.close()


def test_past_the_cap_with_none_idle_a_new_connection_is_refused(server: ServerThread) -> None:
    busy = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
    try:
        for conn in busy:  # each one in the middle of a head: none is idle
            conn.sendall(b"GET / HTTP/1.1\r\n")
        time.sleep(0.1)
        with socket.create_connection(("127.0.0.1", server.port)) as extra:
            extra.settimeout(5)
            answer = extra.recv(65536)
        assert answer.startswith(b"HTTP/1.1 503 Service Unavailable")
        assert b"retry-after: 1" in answer
    finally:
        for conn in busy:
            conn.close()


def test_a_head_past_the_byte_limit_is_refused_as_it_arrives() -> None:
    limits = ConnectionLimits(max_head_bytes=1024)
    with (
        ServerThread(echo, http=protocol_class(limits, http="httptools")) as server,
        socket.create_connection(("127.0.0.1", server.port)) as conn,
    ):
        conn.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        conn.sendall(b"X-Big: " + b"a" * 4096 + b"\r\n")
        conn.settimeout(5)
        assert conn.recv(65536).startswith(b"HTTP/1.1 431 ")


class _CountedWrites:
    """A transport stand-in that notes each write it is handed."""

    def __init__(self, raw: Any = None) -> None:
        self.raw = raw
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        if self.raw is not None:
            self.raw.write(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def test_an_answer_leaves_in_one_write_on_every_protocol(server: ServerThread) -> None:
    """uvicorn writes an answer's head and body separately; the protocol's transport hands them to
    the socket as one write (one system call, one segment)."""
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        conn.sendall(b"GET /first HTTP/1.1\r\nHost: t\r\n\r\n")
        read_response(conn)
        (accepted,) = server.server.server_state.connections
        assert isinstance(accepted.transport, OneWritePerTurn)
        counted = _CountedWrites(accepted.transport.raw)
        accepted.transport.raw = counted  # type: ignore[assignment]  # between requests: nothing is written
        conn.sendall(b"GET /second HTTP/1.1\r\nHost: t\r\n\r\n")
        head, body = read_response(conn)
        assert json.loads(body)["path"] == "/second"
        assert len(counted.writes) == 1
        assert counted.writes[0] == head + b"\r\n\r\n" + body


def test_writes_of_one_turn_join_and_close_writes_what_is_pending() -> None:
    import asyncio

    async def scenario() -> tuple[list[bytes], list[bytes], bool]:
        loop = asyncio.get_running_loop()
        raw = _CountedWrites()
        transport = OneWritePerTurn(raw, loop)  # type: ignore[arg-type]
        transport.write(b"head ")
        transport.write(b"")
        transport.writelines([b"body", b"!"])
        assert raw.writes == []
        assert transport.get_write_buffer_size() == 10
        await asyncio.sleep(0)  # the turn ends
        joined = list(raw.writes)
        transport.write(b"last")
        transport.close()  # before the turn ends: written first, then closed
        dropped = _CountedWrites()
        aborted = OneWritePerTurn(dropped, loop)  # type: ignore[arg-type]
        aborted.write(b"never")
        aborted.abort()
        await asyncio.sleep(0)
        return joined, raw.writes, dropped.writes == [] and dropped.aborted

    joined, writes, discarded = asyncio.run(scenario())
    assert joined == [b"head body!"]
    assert writes == [b"head body!", b"last"]
    assert discarded


def test_a_streamed_answer_that_never_yields_still_waits_for_a_slow_reader() -> None:
    """An app that sends 128 MiB without ever yielding (as a test host's `Stream` does): its writes
    reach the socket's transport at once, whose full buffer makes uvicorn wait (flow control), so the
    server holds a bounded amount for a client that reads nothing, not the whole answer."""
    from a2v_testkit.hosts import Stream

    with (
        ServerThread(Stream(chunks=2048), http=protocol_class()) as running,
        socket.create_connection(("127.0.0.1", running.port)) as conn,
    ):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        conn.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        time.sleep(1.0)  # the server writes until the socket is full, then waits
        (accepted,) = running.server.server_state.connections
        protocol: Any = accepted  # an HTTP protocol here, with uvicorn's flow control
        assert protocol.transport.get_write_buffer_size() < 4 * 1024 * 1024
        assert protocol.flow.write_paused


def test_writes_past_the_threshold_go_through_before_the_turn_ends() -> None:
    import asyncio

    from a2v_testkit.protocol import WRITE_THROUGH_BYTES

    async def scenario() -> list[bytes]:
        raw = _CountedWrites()
        transport = OneWritePerTurn(raw, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"head")
        transport.write(b"x" * WRITE_THROUGH_BYTES)
        transport.write(b"y" * WRITE_THROUGH_BYTES)
        return list(raw.writes)  # before the turn ends

    assert asyncio.run(scenario()) == [b"head" + b"x" * WRITE_THROUGH_BYTES, b"y" * WRITE_THROUGH_BYTES]
