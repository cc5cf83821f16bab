"""Run a mock server for tests: a real uvicorn on a free 127.0.0.1 port, or the app in-process.

Example::

    from mock_server.testing import run_server

    with run_server(test_mode=True) as server:
        httpx.get(f"{server.base_url}/v1/ping")

`run_server(settings=None, **overrides)` starts uvicorn in a thread (a fresh temporary data dir unless
`data_dir` is given), waits until it answers and shuts it down cleanly on exit.

In-process, without a socket: `app_client(create_app(settings))` runs the app's lifespan on an event
loop in a background thread and gives a synchronous `httpx.Client` (app exceptions, such as a test-mode
`ResponseMismatch`, reach the caller). Both are the test toolkit's (`a2v_testkit`), set up for the mock.
Async code can use `a2v_testkit.AppThread(app)` and its `async_transport()`, or
`httpx.AsyncClient(transport=httpx.ASGITransport(app))` inside `async with lifespan(app):`.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from a2v_testkit import ServerThread, app_client, free_port
from mock_server.config import Settings
from mock_server.http.protocol import server_options
from mock_server.runtime.app import create_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.applications import Starlette

__all__ = ["RunningServer", "app_client", "free_port", "lifespan", "run_server"]


@dataclass
class RunningServer:
    base_url: str
    settings: Settings
    app: Starlette
    #: The server thread (its `server` is uvicorn's, with the connections it holds).
    thread: ServerThread | None = None

    @property
    def mock(self) -> Any:
        """The server's state object (store, runner, scenario, ...)."""
        return self.app.state.mock


@contextlib.contextmanager
def run_server(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningServer]:
    """Serve a mock on 127.0.0.1 in a thread for the duration of the `with` block."""
    settings = settings or Settings()
    with contextlib.ExitStack() as stack:
        if "data_dir" not in overrides and settings.data_dir == Settings().data_dir:
            overrides["data_dir"] = stack.enter_context(tempfile.TemporaryDirectory(prefix="a2v-mock-"))
        if "port" not in overrides:
            overrides["port"] = free_port()  # the settings carry the port: chosen before the app is made
        overrides.setdefault("host", "127.0.0.1")
        settings = settings.replace(**overrides)
        app = create_app(settings)
        options = server_options(settings.http, app.state.mock.limits.max_header_bytes)
        server = ServerThread(
            app, host=settings.host, port=settings.port, lifespan="on", name="a2v-mock", **options
        )
        stack.enter_context(server)
        httpx.get(server.url("/v1/ping"), timeout=5).raise_for_status()
        yield RunningServer(server.base_url, settings, app, server)


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[Starlette]:
    """Run `app`'s lifespan (start-up, then shutdown on exit) without a server."""
    async with app.router.lifespan_context(app):
        yield app
