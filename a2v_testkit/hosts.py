"""A loopback HTTP host that serves what a test registers and records every request it gets.

Code under test downloads audio and delivers callbacks over real HTTP, so tests need a host on
127.0.0.1 that serves chosen bytes, misbehaves on purpose and shows what it was sent. `FileHost` is a
Starlette app under uvicorn (`ServerThread`) whose routes can change while it runs:

- `add(path, data, ...)` serves bytes at a path, with a content type, status, headers and delay;
- `route(path, behaviour)` puts any ASGI app at a path (Starlette path syntax: `/hooks/{key}`); the
  behaviours below cover what the tests need: `Reply` (fixed answer, optionally slow), `Replies` (the
  next answer of a script per request: fail twice, then accept), `Redirect`, `DeclaredLength` (a
  `Content-Length` it never sends), `Stream` (a body with no declared length);
- every request is recorded (`Recorded`: method, path, query, headers, body), `requests()` filters them
  and `wait_for()` blocks until enough have come: no sleeps in tests.

Anything not registered answers 404.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.routing import Route

from a2v_testkit._lifecycle import Started
from a2v_testkit.server import ServerThread

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from starlette.types import Message, Receive, Scope, Send

__all__ = ["DeclaredLength", "FileHost", "Recorded", "Redirect", "Replies", "Reply", "Stream"]


async def _start(send: Send, status: int, headers: Mapping[str, str]) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})


@dataclass(frozen=True)
class Reply:
    """A fixed answer: `status`, `body` with `content_type` (and a `Content-Length`), extra `headers`,
    sent after `delay` seconds (a slow host)."""

    body: bytes = b""
    status: int = 200
    content_type: str | None = "application/octet-stream"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        headers = {"content-length": str(len(self.body))}
        if self.content_type:
            headers["content-type"] = self.content_type
        await _start(send, self.status, {**headers, **self.headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else self.body})


class Replies:
    """Each request gets the next reply of `script` (statuses stand for empty replies); once the script
    is used up, `then` answers (a callback receiver that fails twice and then accepts)."""

    def __init__(self, script: Iterable[Reply | int], then: Reply | int = 200) -> None:
        self._script = [self._reply(item) for item in script]
        self._then = self._reply(then)
        self._lock = threading.Lock()

    @staticmethod
    def _reply(item: Reply | int) -> Reply:
        return item if isinstance(item, Reply) else Reply(status=item)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._lock:
            reply = self._script.pop(0) if self._script else self._then
        await reply(scope, receive, send)


@dataclass(frozen=True)
class Redirect:
    """A redirect to `location` (relative or absolute); pointed at its own path it loops forever."""

    location: str
    status: int = 302

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _start(send, self.status, {"location": self.location, "content-length": "0"})
        await send({"type": "http.response.body", "body": b""})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@dataclass(frozen=True)
class DeclaredLength:
    """Headers that promise `length` bytes, then nothing until the client hangs up (a client must
    refuse from the header alone)."""

    length: int
    content_type: str = "application/octet-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _start(send, 200, {"content-length": str(self.length), "content-type": self.content_type})
        await send({"type": "http.response.body", "body": b"", "more_body": True})
        await _until_disconnect(receive)


@dataclass(frozen=True)
class Stream:
    """`chunks` blocks of `chunk_size` zero bytes with no `Content-Length` (chunked encoding): a body
    whose size a client only learns by reading it; `interval` seconds between blocks makes it drip."""

    chunks: int
    chunk_size: int = 65536
    content_type: str = "application/octet-stream"
    interval: float = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _start(send, 200, {"content-type": self.content_type})
        block = b"\0" * self.chunk_size
        for index in range(self.chunks):
            if index and self.interval:
                await asyncio.sleep(self.interval)
            await send({"type": "http.response.body", "body": block, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@dataclass(frozen=True)
class Recorded:
    """One request the host received (header names lower-case)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    received_at: float


class FileHost(Started):
    """A loopback host serving registered paths; records every request.

    Example:
        >>> with FileHost() as host:                                             # doctest: +SKIP
        ...     url = host.add("/a.wav", speech_wav(0.5), "audio/wav")
        ...     host.route("/hooks/{key}", Replies([500, 503]), methods=["POST"])
        ...     httpx.get(url).status_code, host.count("/a.wav")
        (200, 1)
    """

    def __init__(self, host: str = "127.0.0.1", **server_options: Any) -> None:
        self._routes: dict[str, Route] = {}
        self._recorded: list[Recorded] = []
        self._changed = threading.Condition()
        self._app = Starlette()
        # Held responses (`DeclaredLength`, slow `Reply`s) must not keep a stopping host waiting.
        server_options.setdefault("timeout_graceful_shutdown", 2)
        self._server = ServerThread(
            self._record, host=host, lifespan="off", name="a2v-file-host", **server_options
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FileHost:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this host (registered or not)."""
        return self._server.url(path)

    # -- what it serves --------------------------------------------------------------------------------

    def route(self, path: str, behaviour: Callable[..., Any], methods: Iterable[str] = ("GET",)) -> str:
        """Answer requests to `path` (Starlette path syntax) with the ASGI app `behaviour`; replaces
        what was there. GET also answers HEAD. Returns the path's URL (so call it once started)."""
        path = "/" + path.lstrip("/")
        self._routes[path] = Route(path, behaviour, methods=list(methods))
        self._app.router.routes = list(self._routes.values())  # one assignment: safe while serving
        return self.url(path)

    def add(
        self,
        path: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
    ) -> str:
        """Serve `data` at `path` (GET and HEAD); returns its URL."""
        return self.route(path, Reply(data, status, content_type, dict(headers or {}), delay))

    def remove(self, path: str) -> None:
        self._routes.pop("/" + path.lstrip("/"), None)
        self._app.router.routes = list(self._routes.values())

    def clear(self) -> None:
        """Forget every route and every recorded request."""
        self._routes.clear()
        self._app.router.routes = []
        with self._changed:
            self._recorded.clear()

    # -- what it received ------------------------------------------------------------------------------

    def requests(self, path: str | None = None, method: str | None = None) -> list[Recorded]:
        """The requests received so far, oldest first, optionally only those to `path` / with `method`."""
        with self._changed:
            return [
                r
                for r in self._recorded
                if (path is None or r.path == path) and (method is None or r.method == method.upper())
            ]

    def count(self, path: str | None = None, method: str | None = None) -> int:
        return len(self.requests(path, method))

    def wait_for(
        self, count: int = 1, path: str | None = None, method: str | None = None, timeout: float = 30.0
    ) -> list[Recorded]:
        """The requests to `path` once there are `count`; raises `TimeoutError` naming what came if
        fewer than `count` arrived within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(got := self.requests(path, method)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    where = self.url(path or "/")
                    raise TimeoutError(f"{len(got)} of {count} requests to {where} within {timeout} s")
                self._changed.wait(remaining)
            return got

    async def _record(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        entry = Recorded(
            method=scope["method"],
            path=scope["path"],
            query=scope["query_string"].decode("latin-1"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
            received_at=time.time(),
        )
        with self._changed:
            self._recorded.append(entry)
            self._changed.notify_all()
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self._app(scope, replay, send)
