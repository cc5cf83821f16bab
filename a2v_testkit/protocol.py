"""The HTTP/1.1 protocol every server of the project runs with: the mock, the proxy, the test hosts.

It is uvicorn's (httptools, or h11 when asked), with what a server that strangers reach needs and
uvicorn leaves out:

- **Nagle off on every accepted connection.** asyncio sets `TCP_NODELAY` only on sockets whose `proto`
  is `IPPROTO_TCP`; a listening socket made as `socket(AF_INET, SOCK_STREAM)` has proto 0, and every
  answer on a kept-alive connection then waits for the client's delayed ACK (about 40 ms on Linux).
  `listen()` makes the socket with `IPPROTO_TCP`, and the protocol sets the option itself whatever
  socket it is handed (`--fd`, a socket from systemd, a test's own).
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
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "ConnectionLimits",
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

    def resolved(self) -> ConnectionLimits:
        if self.max_connections > 0:
            return self
        return replace(self, max_connections=default_max_connections())


def _nodelay(transport: asyncio.Transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):  # the peer is already gone
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Guard:
    """The connection limits, for either of uvicorn's protocols (mixed in before it)."""

    limits: ConnectionLimits
    # uvicorn's protocol attributes this mixin reads
    transport: asyncio.Transport
    connections: set[Any]
    loop: asyncio.AbstractEventLoop
    timeout_keep_alive: int
    timeout_keep_alive_task: asyncio.TimerHandle | None

    _head_timer: asyncio.TimerHandle | None = None
    _idle_since: float = 0.0
    _refused = False

    def _connection_made(self, transport: asyncio.Transport) -> bool:
        """Nagle off, the cap enforced, the idle clock started; False when the connection was refused."""
        _nodelay(transport)
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]  # armed after each answer
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self.connections.discard(self)
            self._refused = True
            transport.write(self.limits.busy_refusal)
            transport.close()
            return False
        self._idle_since = time.monotonic()
        self.timeout_keep_alive_task = self.loop.call_later(
            self.limits.idle_timeout, self.timeout_keep_alive_handler
        )
        return True

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
        return not busy and self._head_timer is None and not self.transport.is_closing()

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    def _head_started(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _head_done(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _answered(self) -> None:
        self._idle_since = time.monotonic()


def _httptools_class(limits: ConnectionLimits) -> type[Any]:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        """httptools with the guards, and upgrades it does not take served as plain HTTP/1.1."""

        _in_head = False
        _head_bytes = 0
        #: True while a fresh parser reads the body of a request whose upgrade was not taken.
        _resuming = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_done()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused or self.parser is None:
                return
            self._unset_keepalive_if_required()
            self._feed(data)
            if self._in_head and limits.max_head_bytes:
                self._head_bytes += len(data)
                if self._head_bytes > limits.max_head_bytes and not self.transport.is_closing():
                    self._refused = True
                    self.headers = []  # let the parsed part go now
                    self.transport.write(limits.head_refusal)
                    self.transport.close()

        def _feed(self, data: bytes) -> None:
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

        def _continue_as_http(self, rest: bytes) -> None:
            """llhttp stopped at an upgrade, having skipped the request's body: read that body and
            whatever follows with a new parser, as the HTTP/1.1 it still is."""
            framing = b""
            for name, value in self.headers or ():
                if name == b"transfer-encoding" and b"chunked" in value.lower():
                    framing = b"transfer-encoding: chunked\r\n"
                elif name == b"content-length" and value.strip() not in (b"", b"0") and not framing:
                    framing = b"content-length: " + value.strip() + b"\r\n"
            self.parser = httptools.HttpRequestParser(self)
            with contextlib.suppress(AttributeError):  # httptools < 0.6.3
                self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
            if framing and self.cycle is not None and not self.cycle.response_complete:
                self.cycle.more_body = True
                self.cycle.message_event.clear()
                self._resuming = True
                rest = b"POST / HTTP/1.1\r\n" + framing + b"\r\n" + rest
            if rest:
                self._feed(rest)

        def on_message_begin(self) -> None:
            if self._resuming:
                return
            self._in_head, self._head_bytes = True, 0
            self._head_started()
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            if not self._resuming:
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if not self._resuming:
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            if self._resuming:
                return
            self._in_head = False
            self._head_done()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._resuming = False
            super().on_message_complete()

        def on_response_complete(self) -> None:
            self._answered()
            super().on_response_complete()

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
            self._connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            self._head_done()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            super().data_received(data)
            if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
                self._head_started()
            else:
                self._head_done()

        def on_response_complete(self) -> None:
            self._answered()
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
