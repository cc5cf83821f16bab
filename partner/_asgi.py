"""Run an ASGI app in-process on its own event loop thread, lifespan included.

The mock's task worker lives in the app's lifespan, so the app needs a loop that keeps running between
requests, whatever the partner's code does: sync code has no loop at all, and async tests get a fresh
loop per test. `AppThread` owns one loop in a daemon thread, drives the ASGI lifespan protocol on it
(as uvicorn would) and hands each request to `httpx.ASGITransport` there. Callers in any thread, sync
or async, get back a plain, fully read `httpx.Response`.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine, MutableMapping

    ASGIApp = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]

__all__ = ["AppThread", "LifespanError", "in_app"]

#: True in the app's own tasks (its lifespan, the worker it starts, and the requests it serves), so the
#: respx router can tell the mock's outgoing requests (audio downloads, callbacks) from the partner's.
in_app: contextvars.ContextVar[bool] = contextvars.ContextVar("a2v_in_app", default=False)

#: Per request: set when the app dropped the connection instead of answering (the mock's `drop_rate`).
_dropped: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "a2v_dropped", default=None
)


class LifespanError(RuntimeError):
    """The app's lifespan startup or shutdown failed."""


class AppThread:
    """An ASGI app served on a private event loop.

    Example:
        >>> from starlette.applications import Starlette
        >>> runner = AppThread(Starlette()).start()
        >>> runner.send(httpx.Request("GET", "http://app/")).status_code
        404
        >>> runner.stop()
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        startup_timeout: float = 60.0,
        drop_errors: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.app = app
        #: Exceptions by which the app says "drop this connection"; the caller gets what a client of a
        #: server that hung up gets (`httpx.RemoteProtocolError`) instead of the app's 500.
        self.drop_errors = drop_errors
        self.startup_timeout = startup_timeout
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="a2v-inprocess-app", daemon=True)
        self._state: dict[str, Any] = {}
        self._lifespan: asyncio.Future[None] | None = None
        self._messages: asyncio.Queue[dict[str, Any]] | None = None
        self._transport = httpx.ASGITransport(app=self._with_state, raise_app_exceptions=False)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> AppThread:
        self._thread.start()
        try:
            self._call(self._startup(), timeout=self.startup_timeout)
        except BaseException:
            self._stop_loop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
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
        self._messages = asyncio.Queue()
        started: asyncio.Future[None] = self._loop.create_future()
        stopped: asyncio.Future[None] = self._loop.create_future()
        self._stopped = stopped

        async def receive() -> dict[str, Any]:
            assert self._messages is not None
            return await self._messages.get()

        async def send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete":
                started.set_result(None)
            elif kind == "lifespan.startup.failed":
                started.set_exception(LifespanError(f"startup failed: {message.get('message', '')}"))
            elif kind == "lifespan.shutdown.complete":
                stopped.set_result(None)
            elif kind == "lifespan.shutdown.failed":
                stopped.set_exception(LifespanError(f"shutdown failed: {message.get('message', '')}"))

        async def run() -> None:
            scope = {
                "type": "lifespan",
                "asgi": {"version": "3.0", "spec_version": "2.0"},
                "state": self._state,
            }
            try:
                await self.app(scope, receive, send)
            except BaseException as err:
                for future in (started, stopped):
                    if not future.done():
                        future.set_exception(LifespanError(f"the app's lifespan raised {err!r}"))
                raise

        self._lifespan = asyncio.ensure_future(run())
        await self._messages.put({"type": "lifespan.startup"})
        await started

    async def _shutdown(self) -> None:
        if self._messages is None or self._lifespan is None:
            return
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
        response = await self._transport.handle_async_request(request)
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
        response = await asyncio.wrap_future(future)
        return _bind(response, request)


def _bind(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    # A fresh Response with its bytes, so it reads the same from sync and async clients.
    return httpx.Response(
        response.status_code, headers=response.headers.raw, content=response.content, request=request
    )


class AppTransport(httpx.BaseTransport):
    """A sync httpx transport straight to an `AppThread` (for the admin handle: bypasses respx)."""

    def __init__(self, runner: AppThread) -> None:
        self._runner = runner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._runner.send(request)
