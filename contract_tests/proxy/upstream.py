"""A lean HTTP/1.1 client for the proxy's upstream: keep-alive connections, streamed answers.

The proxy's own cost per request is what a user of it pays in latency and throughput. httpx (through
httpcore) costs about as much CPU per request as the whole mock server does: request and response
models, URL parsing, and a pool that scans every connection on each request. Forwarding needs none of
that, so the hot path is an `asyncio.Protocol` with the `httptools` parser (uvicorn's, in C) and a
stack of idle connections per origin. It speaks HTTP/1.1 only, with `Content-Length` or chunked answers;
request bodies are sent whole (the proxy hands streamed request bodies to httpx instead).

    pool = Upstream(timeout=30)
    answer = await pool.request("GET", "http://127.0.0.1:8000/v1/ping", [(b"accept", b"*/*")], b"")
    body = await answer.aread()
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httptools

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["Upstream", "UpstreamError", "UpstreamResponse", "UpstreamTimeout"]

_PAUSE_AT = 32  # chunks queued before reading from the upstream pauses (a slow client)
_RESUME_AT = 4


class UpstreamError(Exception):
    """The upstream could not be reached, closed the connection or answered something that is not HTTP."""


class UpstreamTimeout(UpstreamError):
    """The upstream did not answer (or stopped sending) within the timeout."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; `HttpResponseParser` calls the `on_*` methods as bytes arrive."""

    def __init__(self, key: tuple[str, str, int]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reused = False
        self._response: UpstreamResponse | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._headers: list[tuple[bytes, bytes]] = []
        self._head = False
        self._interim = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as err:
            self._fail(UpstreamError(f"the upstream's answer is not HTTP/1.1: {err}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self._response
        if exc is None and response is not None and response.head.done() and not response.keep_alive:
            self._finish()  # an answer delimited by the end of the connection
            return
        self._fail(UpstreamError(f"the upstream closed the connection{f': {exc}' if exc else ''}"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        response = self._response
        if response is None:
            return
        if 100 <= self._parser.get_status_code() < 200:  # an interim answer (100 Continue): skip it
            self._headers, self._interim = [], True
            return
        response.status_code = self._parser.get_status_code()
        response.raw_headers = self._headers
        response.keep_alive = self._parser.should_keep_alive()
        if not response.head.done():
            response.head.set_result(None)
        if self._head:  # a HEAD answer has no body, whatever its Content-Length says
            self._finish()

    def on_body(self, body: bytes) -> None:
        if self._response is not None:
            self._response.chunks.put_nowait(body)
            if self._response.chunks.qsize() >= _PAUSE_AT and self.transport is not None:
                self.transport.pause_reading()
                self._response.paused = True

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if not self._head:
            self._finish()

    # the request
    def start(self, response: UpstreamResponse, data: bytes, head: bool) -> None:
        self._response, self._headers, self._head = response, [], head
        if head:
            self._parser = httptools.HttpResponseParser(self)
        assert self.transport is not None
        self.transport.write(data)

    def _finish(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.chunks.put_nowait(None)
            response.complete = True
            if self._head:
                self._parser = httptools.HttpResponseParser(self)

    def _fail(self, error: UpstreamError) -> None:
        response, self._response = self._response, None
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        if response is not None:
            if not response.head.done():
                response.head.set_exception(error)
            response.chunks.put_nowait(error)


class UpstreamResponse:
    """An answer whose body is read as it arrives: `aiter_raw()` or `aread()`, then `aclose()`."""

    def __init__(self, pool: Upstream, connection: _Connection) -> None:
        self._pool = pool
        self._connection = connection
        self.status_code = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.complete = False
        self.paused = False
        self.head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | UpstreamError | None] = asyncio.Queue()
        self._done = False

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        for key, value in self.raw_headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        while not self._done:
            try:
                item = await asyncio.wait_for(self.chunks.get(), self._pool.timeout)
            except TimeoutError as err:
                self._connection.closed = True
                raise UpstreamTimeout(f"the upstream stopped sending for {self._pool.timeout:g} s") from err
            if self.paused and self.chunks.qsize() <= _RESUME_AT and self._connection.transport is not None:
                self.paused = False
                self._connection.transport.resume_reading()
            if item is None:
                self._done = True
                return
            if isinstance(item, UpstreamError):
                self._done = True
                raise item
            yield item

    async def aread(self) -> bytes:
        return b"".join([chunk async for chunk in self.aiter_raw()])

    async def aclose(self) -> None:
        """Give the connection back when the answer was read to its end and may be kept, else close it."""
        connection = self._connection
        if self.complete and self.keep_alive and not connection.closed and self.chunks.empty():
            self._pool.release(connection)
        elif connection.transport is not None:
            connection.closed = True
            connection.transport.close()


class Upstream:
    """Idle connections per origin, most recently used first."""

    def __init__(self, *, timeout: float, connect_timeout: float = 10.0, max_idle: int = 64) -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._ssl: ssl.SSLContext | None = None

    async def request(
        self, method: str, url: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> UpstreamResponse:
        """Send one request; returns once the answer's status and headers have arrived."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UpstreamError(f"cannot forward to {url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"{method} {target} HTTP/1.1\r\nhost: {parts.netloc}\r\n".encode("latin-1")]
        head += [k + b": " + v + b"\r\n" for k, v in headers]
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            head.append(f"content-length: {len(body)}\r\n".encode())
        data = b"".join(head) + b"\r\n" + body
        for attempt in (1, 2):
            connection = await self._acquire(key, fresh=attempt == 2)
            response = UpstreamResponse(self, connection)
            connection.start(response, data, method == "HEAD")
            try:
                await asyncio.wait_for(asyncio.shield(response.head), self.timeout)
            except TimeoutError as err:
                connection.closed = True
                if connection.transport is not None:
                    connection.transport.close()
                raise UpstreamTimeout(f"the upstream did not answer within {self.timeout:g} s") from err
            except UpstreamError:
                # A kept-alive connection the upstream closed meanwhile: try once on a new one.
                if attempt == 1 and connection.reused:
                    continue
                raise
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    async def _acquire(self, key: tuple[str, str, int], *, fresh: bool) -> _Connection:
        idle = self._idle.get(key)
        while idle and not fresh:
            connection = idle.pop()
            if not connection.closed:
                connection.reused = True
                return connection
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = None
        if scheme == "https":
            self._ssl = self._ssl or ssl.create_default_context()
            context = self._ssl
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(lambda: _Connection(key), host, port, ssl=context),
                self.connect_timeout,
            )
        except TimeoutError as err:
            raise UpstreamTimeout(
                f"connecting to {host}:{port} took over {self.connect_timeout:g} s"
            ) from err
        except OSError as err:
            raise UpstreamError(f"cannot connect to {host}:{port}: {err}") from err
        protocol.reused = False
        return protocol

    def release(self, connection: _Connection) -> None:
        idle = self._idle.setdefault(connection.key, deque())
        idle.append(connection)
        while len(idle) > self.max_idle:
            old = idle.popleft()
            if old.transport is not None:
                old.transport.close()

    def idle(self) -> int:
        """How many kept-alive connections wait for a request."""
        return sum(len(idle) for idle in self._idle.values())

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                if connection.transport is not None:
                    connection.transport.close()
        self._idle.clear()
