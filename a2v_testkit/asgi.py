"""An ASGI app in-process, on its own event loop thread with its lifespan running, for any caller.

`httpx.ASGITransport` alone is async-only and skips the app's lifespan, where a server like the mock
starts its store and workers; and those workers need a loop that keeps running between requests,
whatever the caller does (sync code has no loop at all; pytest-asyncio gives each test a fresh one).
`AppThread` owns one loop in a daemon thread, drives the ASGI lifespan protocol on it as uvicorn would
(each request sees a copy of the lifespan state), and serves each request there with
`httpx.ASGITransport`. Callers in any thread, sync or async, get back a plain, fully read
`httpx.Response`; `AppTransport` and `AsyncAppTransport` plug it into `httpx.Client`/`AsyncClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from typing import TYPE_CHECKING, Any, Literal

import httpx

from a2v_testkit._lifecycle import Started

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, Iterator, MutableMapping

    ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]

__all__ = ["AppThread", "AppTransport", "AsyncAppTransport", "LifespanError", "app_client", "in_app"]

#: True in the app's own tasks (its lifespan, what the lifespan starts, and the requests it serves), so
#: a router of outgoing requests (respx) can tell the app's own calls from its caller's.
in_app: contextvars.ContextVar[bool] = contextvars.ContextVar("a2v_in_app", default=False)

#: Per request: set when the app dropped the connection instead of answering (see `drop_errors`).
_dropped: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "a2v_dropped", default=None
)


class LifespanError(RuntimeError):
    """The app's lifespan startup or shutdown failed."""


class AppThread(Started):
    """An ASGI app served on a private event loop.

    `lifespan`: "auto" runs it and carries on without one if the app raises before starting (as uvicorn
    does for apps that do not speak the lifespan protocol), "on" makes that a `LifespanError`, "off"
    skips it. `raise_app_exceptions` as in `httpx.ASGITransport`: True hands an exception the app raised
    to the caller (a test-mode response check), False turns it into a 500 (what a server would send).
    `drop_errors` are exceptions by which the app says "drop this connection": the caller gets what the
    client of a server that hung up gets (`httpx.RemoteProtocolError`).

    Example:
        >>> from starlette.applications import Starlette
        >>> with AppThread(Starlette()) as runner:
        ...     runner.send(httpx.Request("GET", "http://app/")).status_code
        404
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        lifespan: Literal["auto", "on", "off"] = "auto",
        raise_app_exceptions: bool = True,
        drop_errors: tuple[type[BaseException], ...] = (),
        client: tuple[str, int] = ("127.0.0.1", 50000),
        startup_timeout: float = 60.0,
    ) -> None:
        self.app = app
        self.lifespan = lifespan
        self.drop_errors = drop_errors
        self.startup_timeout = startup_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="a2v-inprocess-app", daemon=True)
        self._state: dict[str, Any] = {}
        self._lifespan: asyncio.Future[None] | None = None
        self._messages: asyncio.Queue[dict[str, Any]] | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._transport = httpx.ASGITransport(
            app=self._with_state, raise_app_exceptions=raise_app_exceptions, client=client
        )

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> AppThread:
        """Start the loop and the app's lifespan; returns once startup completed."""
        self._thread.start()
        try:
            if self.lifespan != "off":
                self._call(self._startup(), timeout=self.startup_timeout)
        except BaseException:
            self._stop_loop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Run the lifespan shutdown and end the loop thread."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self._shutdown(), timeout=timeout)
        finally:
            self._stop_loop()

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        self._loop.close()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    async def _startup(self) -> None:
        in_app.set(True)
        messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        started: asyncio.Future[None] = self._loop.create_future()
        stopped: asyncio.Future[None] = self._loop.create_future()
        self._messages, self._stopped = messages, stopped

        async def send(message: dict[str, Any]) -> None:
            kind, text = message["type"], message.get("message", "")
            if kind == "lifespan.startup.complete":
                started.set_result(None)
            elif kind == "lifespan.startup.failed":
                started.set_exception(LifespanError(f"startup failed: {text}"))
            elif kind == "lifespan.shutdown.complete":
                stopped.set_result(None)
            elif kind == "lifespan.shutdown.failed":
                stopped.set_exception(LifespanError(f"shutdown failed: {text}"))

        async def run() -> None:
            scope = {
                "type": "lifespan",
                "asgi": {"version": "3.0", "spec_version": "2.0"},
                "state": self._state,
            }
            try:
                await self.app(scope, messages.get, send)
            except BaseException as err:
                if not started.done() and self.lifespan == "auto":
                    started.set_result(None)  # no lifespan support: serve without one
                    stopped.set_result(None)
                    return
                for future in (started, stopped):
                    if not future.done():
                        future.set_exception(LifespanError(f"the app's lifespan raised {err!r}"))
                raise

        self._lifespan = asyncio.ensure_future(run())
        await messages.put({"type": "lifespan.startup"})
        await started

    async def _shutdown(self) -> None:
        if self._messages is None or self._lifespan is None or self._stopped is None:
            return
        if not self._lifespan.done():
            await self._messages.put({"type": "lifespan.shutdown"})
        try:
            await self._stopped
        finally:
            await asyncio.gather(self._lifespan, return_exceptions=True)

    async def _with_state(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        # Like uvicorn: every request sees a shallow copy of what the lifespan put in its state.
        in_app.set(True)
        if scope["type"] in ("http", "websocket"):
            scope["state"] = dict(self._state)
        try:
            await self.app(scope, receive, send)
        except self.drop_errors as err:
            dropped = _dropped.get()
            if dropped is not None:
                dropped.append(err)
            raise

    # -- requests --------------------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def run(self, fn: Callable[[], Coroutine[Any, Any, Any]], timeout: float | None = 60.0) -> Any:
        """Run a coroutine made by `fn` on the app's loop and return its result (from any thread)."""
        return self._call(fn(), timeout)

    async def _handle(
        self, method: str, url: httpx.URL, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> httpx.Response:
        request = httpx.Request(method, url, headers=headers, content=body)
        dropped: list[BaseException] = []
        _dropped.set(dropped)
        try:
            response = await self._transport.handle_async_request(request)
        except self.drop_errors as err:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from err
        content = await response.aread()
        if dropped:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from dropped[0]
        return httpx.Response(response.status_code, headers=response.headers.raw, content=content)

    def send(self, request: httpx.Request) -> httpx.Response:
        """Serve a request from sync code (blocks this thread, not the app's loop)."""
        body = request.read()
        response = self._call(self._handle(request.method, request.url, request.headers.raw, body))
        return _bind(response, request)

    async def asend(self, request: httpx.Request) -> httpx.Response:
        """Serve a request from async code running on another loop."""
        body = await request.aread()
        future = asyncio.run_coroutine_threadsafe(
            self._handle(request.method, request.url, request.headers.raw, body), self._loop
        )
        return _bind(await asyncio.wrap_future(future), request)

    def transport(self) -> AppTransport:
        """A sync httpx transport to this app (closing it leaves the app running)."""
        return AppTransport(self)

    def async_transport(self) -> AsyncAppTransport:
        """An async httpx transport to this app, usable from any event loop."""
        return AsyncAppTransport(self)


def _bind(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    # A fresh Response with its bytes, so it reads the same from sync and async clients.
    return httpx.Response(
        response.status_code, headers=response.headers.raw, content=response.content, request=request
    )


def _unread(response: httpx.Response) -> httpx.Response:
    # What a network transport returns: a body still to be read, so the client reads it and times it
    # (`response.elapsed` is only set when the client closes a stream it read; schemathesis needs it).
    return httpx.Response(
        response.status_code,
        headers=response.headers.raw,
        stream=httpx.ByteStream(response.content),
        request=response.request,
    )


class AppTransport(httpx.BaseTransport):
    """A sync httpx transport straight to an `AppThread` (not through respx or any mount)."""

    def __init__(self, runner: AppThread) -> None:
        self.runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return _unread(self.runner.send(request))


class AsyncAppTransport(httpx.AsyncBaseTransport):
    """An async httpx transport to an `AppThread`, from a loop other than the app's."""

    def __init__(self, runner: AppThread) -> None:
        self.runner = runner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return _unread(await self.runner.asend(request))


@contextlib.contextmanager
def app_client(
    app: ASGIApp, *, thread_options: dict[str, Any] | None = None, **client_options: Any
) -> Iterator[httpx.Client]:
    """A sync `httpx.Client` for `app` in-process, its lifespan running for the `with` block.

    `thread_options` go to `AppThread`; the rest to `httpx.Client` (`base_url` defaults to
    `http://testserver`).

    Example:
        >>> from starlette.applications import Starlette
        >>> with app_client(Starlette()) as client:
        ...     client.get("/").status_code
        404
    """
    client_options.setdefault("base_url", "http://testserver")
    with (
        AppThread(app, **(thread_options or {})) as runner,
        httpx.Client(transport=runner.transport(), **client_options) as client,
    ):
        yield client
