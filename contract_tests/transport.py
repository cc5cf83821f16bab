"""Reaching an ASGI app in-process from synchronous code, with its lifespan running.

`httpx.ASGITransport` is async-only and does not run the app's lifespan (where a server like the mock
starts its store and workers). `InProcessTransport` runs both on an event loop in a background thread
(an anyio blocking portal), so the sync `A2VClient` and the kit's checks can drive the app directly.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import anyio
import httpx
from anyio.from_thread import start_blocking_portal

__all__ = ["InProcessTransport"]


class InProcessTransport(httpx.BaseTransport):
    """A sync httpx transport to `app`; call `close()` to run the lifespan shutdown."""

    def __init__(self, app: Any, *, lifespan: bool = True) -> None:
        self.app = app
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._inner = httpx.ASGITransport(app=app)
        self._shutdown: Any = None
        if lifespan:
            self._start_lifespan()

    def _start_lifespan(self) -> None:
        """Run the app's lifespan as a task on the portal's loop; wait for its startup."""
        send_to_app, app_receive = anyio.create_memory_object_stream[dict[str, Any]](10)
        app_send, receive_from_app = anyio.create_memory_object_stream[dict[str, Any]](10)
        scope: dict[str, Any] = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

        async def run() -> None:
            try:
                await self.app(scope, app_receive.receive, app_send.send)
            except Exception as err:  # an app without lifespan support
                await app_send.send({"type": "lifespan.unsupported", "message": str(err)})

        self._portal.start_task_soon(run)
        self._portal.call(send_to_app.send, {"type": "lifespan.startup"})
        message = self._portal.call(receive_from_app.receive)
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the app's lifespan startup failed: {message.get('message')}")
        self._inner = httpx.ASGITransport(app=self._with_state(scope["state"]))

        async def shutdown() -> None:
            if message["type"] != "lifespan.startup.complete":
                return
            await send_to_app.send({"type": "lifespan.shutdown"})
            with anyio.move_on_after(10):
                await receive_from_app.receive()

        self._shutdown = shutdown

    def _with_state(self, state: dict[str, Any]) -> Any:
        app = self.app

        async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
            scope = dict(scope)
            scope["state"] = dict(state)
            await app(scope, receive, send)

        return wrapped

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner_request = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            response = await self._inner.handle_async_request(inner_request)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        status, headers, content = self._portal.call(call)
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(content), request=request)

    def close(self) -> None:
        if self._shutdown is not None:
            shutdown, self._shutdown = self._shutdown, None
            self._portal.call(shutdown)
        self._stack.close()
