"""Run a mock server for tests: a real uvicorn on a free 127.0.0.1 port, or the app in-process.

Example::

    from mock_server.testing import run_server

    with run_server(test_mode=True) as server:
        httpx.get(f"{server.base_url}/v1/ping")

`run_server(settings=None, **overrides)` starts uvicorn in a thread (a fresh temporary data dir unless
`data_dir` is given), waits until it answers and shuts it down cleanly on exit.

In-process, without a socket: `app_client(create_app(settings))` runs the app's lifespan on an event
loop in a background thread and gives a synchronous `httpx.Client` whose transport is
`httpx.ASGITransport` (app exceptions, such as a test-mode `ResponseMismatch`, reach the caller).
Async code can use `httpx.AsyncClient(transport=httpx.ASGITransport(app))` inside
`async with lifespan(app):`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.from_thread
import httpx
import uvicorn

from mock_server.app import create_app
from mock_server.config import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.applications import Starlette

__all__ = ["RunningServer", "app_client", "free_port", "lifespan", "run_server"]


@dataclass
class RunningServer:
    base_url: str
    settings: Settings
    app: Starlette

    @property
    def mock(self) -> Any:
        """The server's state object (store, runner, scenario, ...)."""
        return self.app.state.mock


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_server(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningServer]:
    """Serve a mock on 127.0.0.1 in a thread for the duration of the `with` block."""
    settings = settings or Settings()
    with contextlib.ExitStack() as stack:
        if "data_dir" not in overrides and settings.data_dir == Settings().data_dir:
            overrides["data_dir"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="a2v-mock-"))
        if "port" not in overrides:
            overrides["port"] = free_port()
        overrides.setdefault("host", "127.0.0.1")
        settings = settings.replace(**overrides)
        app = create_app(settings)
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            lifespan="on",
            access_log=False,
            http=settings.http,
        )
        server = uvicorn.Server(config)
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                asyncio.run(server.serve())
            except BaseException as err:  # reported to the caller below
                failure.append(err)

        thread = threading.Thread(target=serve, name=f"a2v-mock-{settings.port}", daemon=True)
        thread.start()
        base_url = f"http://{settings.host}:{settings.port}"
        deadline = time.monotonic() + 30
        while not server.started:
            if failure or not thread.is_alive():
                raise RuntimeError(f"the mock server on {base_url} did not start") from (
                    failure[0] if failure else None
                )
            if time.monotonic() > deadline:
                raise RuntimeError(f"the mock server on {base_url} did not start within 30 s")
            time.sleep(0.02)
        httpx.get(f"{base_url}/v1/ping", timeout=5).raise_for_status()
        try:
            yield RunningServer(base_url, settings, app)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            if thread.is_alive():
                raise RuntimeError(f"the mock server on {base_url} did not stop within 30 s")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[Starlette]:
    """Run `app`'s lifespan (start-up, then shutdown on exit) without a server."""
    async with app.router.lifespan_context(app):
        yield app


class _PortalTransport(httpx.BaseTransport):
    """A sync transport that runs `httpx.ASGITransport` on the portal's event loop."""

    def __init__(self, portal: Any, app: Starlette) -> None:
        self.portal = portal
        self.asgi = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self.asgi.handle_async_request(inner)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        status, headers, body = self.portal.call(call)
        return httpx.Response(status, headers=headers, content=body, request=request)


@contextlib.contextmanager
def app_client(app: Starlette, **client_options: Any) -> Iterator[httpx.Client]:
    """A synchronous client for `app` in-process, with its lifespan running for the `with` block."""
    client_options.setdefault("base_url", "http://testserver")
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
        httpx.Client(transport=_PortalTransport(portal, app), **client_options) as client,
    ):
        yield client
