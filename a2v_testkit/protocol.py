"""The HTTP/1.1 protocol every server of the project runs with: the mock, the proxy, the test hosts.

It is uvicorn's (httptools, or h11 when asked), with what a server that strangers reach needs and
uvicorn leaves out:

- **Nagle off on every accepted connection.** asyncio sets `TCP_NODELAY` only on sockets whose `proto`
  is `IPPROTO_TCP`; a listening socket made as `socket(AF_INET, SOCK_STREAM)` has proto 0, and every
  answer on a kept-alive connection then waits for the client's delayed ACK (about 40 ms on Linux).
  `listen()` makes the socket with `IPPROTO_TCP`, and the protocol sets the option itself whatever
  socket it is handed (`--fd`, a socket from systemd, a test's own).
- **One write per answer.** uvicorn writes an answer's head and body separately; with Nagle off that is
  two system calls and two segments. `OneWritePerTurn` joins the writes of one event-loop turn.
- **An upgrade the server does not take is plain HTTP/1.1.** llhttp (under httptools) treats a request
  with `Connection: Upgrade` as the end of HTTP on the connection and skips its body; uvicorn then logs
  "Unsupported upgrade request" and the app reads an empty body. Java's `HttpClient` sends
  `Upgrade: h2c` on every `http://` request by default, so its `POST`s arrived empty. Here the body is
  read as HTTP with a fresh parser (RFC 9110 7.8: a server may ignore `Upgrade`), and the connection
  goes on as HTTP/1.1. h11 already does this.
- **Bounded heads, idle connections and a connection cap** (`ConnectionLimits`): a head larger than
  `max_head_bytes` is refused as it arrives (at most the limit plus one read is held), a head not
  complete within `head_timeout` seconds of its first byte closes the connection, so does a
  connection with nothing in flight for `idle_timeout` seconds (a new one that sends nothing included),
  and past `max_connections` a new connection first takes the place of the longest-idle one, else is
  answered `busy_refusal` and closed.

Example:
    >>> limits = ConnectionLimits(max_connections=100)
    >>> config = uvicorn.Config(app, http=protocol_class(limits))      # doctest: +SKIP
    >>> uvicorn.Server(config).run(sockets=[listen("127.0.0.1", 0)])   # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import importlib.util
import resource
import socket
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "ConnectionLimits",
    "OneWritePerTurn",
    "default_max_connections",
    "listen",
    "plain_refusal",
    "protocol_class",
    "uvicorn_options",
]


def listen(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on `host:port` (port 0: any free port), made with `IPPROTO_TCP` so that
    asyncio turns Nagle off on every connection it accepts. Raises `OSError` as `bind` does."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def plain_refusal(status: int, reason: str, text: str, headers: tuple[str, ...] = ()) -> bytes:
    """A complete `connection: close` answer with a plain-text body, written before the app is reached."""
    body = text.encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: text/plain; charset=utf-8"]
    head += [*headers, f"content-length: {len(body)}", "connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def default_max_connections() -> int:
    """1000, or half the process's open-file limit when that is lower (the rest is for files,
    the database and the render workers)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1000
    return max(16, min(1000, soft // 2))


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may hold and for how long (docs/security.md, "Connections")."""

    #: Seconds from a request head's first byte until it must be complete.
    head_timeout: float = 10.0
    #: Seconds a connection may stay open with nothing in flight (before its first request too).
    idle_timeout: float = 5.0
    #: Open connections at most; 0 takes `default_max_connections()`.
    max_connections: int = 0
    #: Bytes of one request head at most (target and header fields, as they arrive); 0: no limit.
    max_head_bytes: int = 64 * 1024
    #: What a head past `max_head_bytes` is answered (then the connection is closed).
    head_refusal: bytes = plain_refusal(
        431, "Request Header Fields Too Large", "request header fields are larger than the limit"
    )
    #: What a connection past `max_connections` is answered when no idle one can make room.
    busy_refusal: bytes = plain_refusal(
        503, "Service Unavailable", "too many open connections; retry later", ("retry-after: 1",)
    )
    #: What a request that is not HTTP/1.1 (a bad request line or header field) is answered.
    malformed_refusal: bytes = plain_refusal(
        400, "Bad Request", "the request could not be parsed as HTTP/1.1 (request line or header fields)"
    )

    def resolved(self) -> ConnectionLimits:
        if self.max_connections > 0:
            return self
        return replace(self, max_connections=default_max_connections())


def _nodelay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is already gone
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


#: Pending bytes past which `OneWritePerTurn` writes at once instead of at the end of the turn.
WRITE_THROUGH_BYTES = 16 * 1024


class OneWritePerTurn:
    """A transport whose writes made in one turn of the event loop leave as one write.

    uvicorn writes an answer's head and its body separately: with Nagle off (as it must be), two
    system calls and two segments per answer, the second often a handful of bytes. Here each write
    joins the pending ones, and one `call_soon` hands them to the real transport together, after the
    handler's turn, still before the loop next waits for I/O. Everything else is the real transport's.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.raw = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        self._size += len(data)
        if self._size >= WRITE_THROUGH_BYTES:
            # A large answer goes on at once: its writes reach the real transport, whose buffer tells
            # the server to wait (flow control) before a streaming app that never yields fills memory.
            self.flush()
        elif len(self._pending) == 1:
            self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending, self._size = self._pending, [], 0
        if not self.raw.is_closing():
            self.raw.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def close(self) -> None:
        self.flush()
        self.raw.close()

    def write_eof(self) -> None:
        self.flush()
        self.raw.write_eof()

    def abort(self) -> None:
        self._pending, self._size = [], 0
        self.raw.abort()

    def get_write_buffer_size(self) -> int:
        return self.raw.get_write_buffer_size() + self._size

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _Guard:
    """The connection limits, for either of uvicorn's protocols (mixed in before it).

    No timer per request: each connection notes when its head began and since when it is idle, and one
    sweep per server (every quarter of the shorter limit) closes those past their limit."""

    limits: ConnectionLimits
    # uvicorn's protocol attributes this mixin reads
    transport: asyncio.Transport
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    server_state: Any
    timeout_keep_alive: int

    #: `loop.time()` when the head in progress began (0: none), and since when nothing is in flight.
    _head_since = 0.0
    _idle_since = 0.0
    _refused = False

    def _connection_made(self, transport: asyncio.Transport) -> bool:
        """Nagle off, the cap enforced, the idle clock started; False when the connection was refused."""
        _nodelay(transport)
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]  # h11's timer
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self.connections.discard(self)
            self._refused = True
            transport.write(self.limits.busy_refusal)
            transport.close()
            return False
        self._idle_since = self.loop.time()
        state = self.server_state
        if getattr(state, "a2v_sweeping", False) is False:
            state.a2v_sweeping = True
            self.loop.call_later(self._period(), _sweep, self.loop, state, self.limits, self._period())
        return True

    def _answer_complete(self) -> None:
        """A complete answer leaves now, not at the end of the turn: one loop turn less per answer on a
        kept-alive connection, whose client waits for it before it sends its next request."""
        if isinstance(self.transport, OneWritePerTurn):
            self.transport.flush()

    def _unwrap(self) -> None:
        """Back to the real transport, what is pending written first."""
        if isinstance(self.transport, OneWritePerTurn):
            self.transport.flush()
            self.transport = self.transport.raw

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request its parser rejects, as the server's own refusal (the mock's is
        the API's envelope), then the connection closed: nothing more can be read from it."""
        if not self.transport.is_closing():
            self.transport.write(self.limits.malformed_refusal)
            self.transport.close()

    def _period(self) -> float:
        return max(0.05, min(self.limits.head_timeout, self.limits.idle_timeout) / 4)

    def _make_room(self) -> bool:
        """Close the connection that has been idle longest, if any is idle."""
        idle = [c for c in self.connections if c is not self and isinstance(c, _Guard) and c._is_idle()]
        if not idle:
            return False
        oldest = min(idle, key=lambda c: c._idle_since)
        oldest.connections.discard(oldest)
        oldest.transport.close()
        return True

    def _is_idle(self) -> bool:
        cycle = getattr(self, "cycle", None)
        busy = cycle is not None and not cycle.response_complete
        return not busy and not self._head_since and not self.transport.is_closing()

    def _overdue(self, now: float) -> bool:
        if self._head_since:
            return now - self._head_since > self.limits.head_timeout
        return self._is_idle() and now - self._idle_since > self.limits.idle_timeout


def _sweep(loop: asyncio.AbstractEventLoop, state: Any, limits: ConnectionLimits, period: float) -> None:
    """Close every connection of the server past its head or idle limit; again in `period` seconds
    while the server has connections."""
    now = loop.time()
    for conn in list(state.connections):
        if isinstance(conn, _Guard) and not conn.transport.is_closing() and conn._overdue(now):
            conn.transport.close()
    if state.connections:
        loop.call_later(period, _sweep, loop, state, limits, period)
    else:
        state.a2v_sweeping = False


def _httptools_class(limits: ConnectionLimits) -> type[Any]:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _Resumed:
        """The parser's protocol after an upgrade it did not take: the made-up head that tells the new
        parser the body's framing is not the request's (it is skipped); all else goes to `proto`."""

        def __init__(self, proto: Any) -> None:
            self.proto = proto
            self.first = True

        def on_message_begin(self) -> None:
            if not self.first:
                self.proto.on_message_begin()

        def on_url(self, url: bytes) -> None:
            if not self.first:
                self.proto.on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if not self.first:
                self.proto.on_header(name, value)

        def on_headers_complete(self) -> None:
            if not self.first:
                self.proto.on_headers_complete()

        def on_body(self, body: bytes) -> None:
            self.proto.on_body(body)

        def on_message_complete(self) -> None:
            self.first = False
            self.proto.on_message_complete()

    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        """httptools with the guards, and upgrades it does not take served as plain HTTP/1.1."""

        _head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self._connection_made(transport):
                self.transport = OneWritePerTurn(transport, self.loop)  # type: ignore[assignment]

        def handle_websocket_upgrade(self) -> None:
            """uvicorn's, on the real transport (the WebSocket protocol takes it over)."""
            self._unwrap()
            super().handle_websocket_upgrade()

        def data_received(self, data: bytes) -> None:
            if self._refused or self.parser is None:
                return
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                message = "Invalid HTTP request received."
                self.logger.warning(message)
                self.send_400_response(message)
            except httptools.HttpParserUpgrade as upgrade:
                if self._should_upgrade():  # a WebSocket, with a WebSocket library: uvicorn's way
                    self.handle_websocket_upgrade()
                else:
                    self._continue_as_http(data[upgrade.args[0] :])
            if self._head_since and limits.max_head_bytes:
                self._head_bytes += len(data)
                if self._head_bytes > limits.max_head_bytes and not self.transport.is_closing():
                    self._refused = True
                    self.headers = []  # let the parsed part go now
                    self.transport.write(limits.head_refusal)
                    self.transport.close()

        def _continue_as_http(self, rest: bytes) -> None:
            """llhttp stopped at an upgrade, having skipped the request's body: read that body and
            whatever follows with a new parser, as the HTTP/1.1 it still is."""
            framing = b""
            for name, value in self.headers or ():
                if name == b"transfer-encoding" and b"chunked" in value.lower():
                    framing = b"transfer-encoding: chunked\r\n"
                elif name == b"content-length" and value.strip() not in (b"", b"0") and not framing:
                    framing = b"content-length: " + value.strip() + b"\r\n"
            reader: Any = self
            if framing and self.cycle is not None and not self.cycle.response_complete:
                self.cycle.more_body = True
                self.cycle.message_event.clear()
                reader = _Resumed(self)
                rest = b"POST / HTTP/1.1\r\n" + framing + b"\r\n" + rest
            self.parser = httptools.HttpRequestParser(reader)
            with contextlib.suppress(AttributeError):  # httptools < 0.6.3
                self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
            if rest:
                self.data_received(rest)

        def on_message_begin(self) -> None:
            self._head_since, self._head_bytes = self.loop.time(), 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head_since = 0.0
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            """uvicorn's, with the idle clock restarted instead of a keep-alive timer (the sweep)."""
            self._answer_complete()
            self.server_state.total_requests += 1
            self._idle_since = self.loop.time()
            if self.transport.is_closing():
                return
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)

        def _unsupported_upgrade_warning(self) -> None:
            """Not a warning here: the request is served as plain HTTP/1.1."""

    GuardedHttpToolsProtocol.limits = limits
    return GuardedHttpToolsProtocol


def _h11_class(limits: ConnectionLimits) -> type[Any]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(_Guard, H11Protocol):
        """h11 with the guards (h11 bounds the head's bytes itself: `h11_max_incomplete_event_size`)."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if self._connection_made(transport):
                self.transport = OneWritePerTurn(transport, self.loop)  # type: ignore[assignment]

        def handle_websocket_upgrade(self, event: Any) -> None:
            """uvicorn's, on the real transport (the WebSocket protocol takes it over)."""
            self._unwrap()
            super().handle_websocket_upgrade(event)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
                self._head_since = self._head_since or self.loop.time()
            else:
                self._head_since = 0.0

        def on_response_complete(self) -> None:
            self._answer_complete()
            self._idle_since = self.loop.time()
            super().on_response_complete()

        def _unsupported_upgrade_warning(self) -> None:
            """Not a warning here: h11 serves the request as plain HTTP/1.1."""

    GuardedH11Protocol.limits = limits
    return GuardedH11Protocol


def protocol_class(limits: ConnectionLimits | None = None, http: str = "auto") -> type[Any]:
    """The protocol for `uvicorn.Config(http=...)`: `http` "auto" (httptools when installed, as
    uvicorn chooses), "httptools" or "h11"."""
    limits = (limits or ConnectionLimits()).resolved()
    if http == "h11" or (http == "auto" and importlib.util.find_spec("httptools") is None):
        return _h11_class(limits)
    if http not in ("auto", "httptools"):
        raise ValueError(f"http must be auto, httptools or h11, got {http!r}")
    return _httptools_class(limits)


def uvicorn_options(limits: ConnectionLimits | None = None, http: str = "auto") -> dict[str, Any]:
    """`uvicorn.Config` options for `protocol_class` (h11 is told the head limit too)."""
    limits = limits or ConnectionLimits()
    cls = protocol_class(limits, http)
    options: dict[str, Any] = {"http": cls}
    if cls.__name__ == "GuardedH11Protocol" and limits.max_head_bytes:
        options["h11_max_incomplete_event_size"] = limits.max_head_bytes
    return options
