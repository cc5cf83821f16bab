"""partner._asgi.AppThread: an ASGI app on its own loop thread (lifespan included), for any caller."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from partner._asgi import AppThread, LifespanError, in_app

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.requests import Request


class Hangup(ConnectionError):
    pass


def make_app(fail_startup: bool = False) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        if fail_startup:
            raise RuntimeError("no database")
        ticks = asyncio.Event()

        async def worker() -> None:
            ticks.set()
            await asyncio.sleep(3600)

        task = asyncio.create_task(worker())
        await ticks.wait()
        yield {"worker_running": not task.done()}
        task.cancel()

    async def state(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse(
            {"worker": request.state.worker_running, "in_app": in_app.get(), "echo": body.decode()}
        )

    async def hangup(request: Request) -> JSONResponse:
        raise Hangup("dropped")

    routes = [Route("/state", state, methods=["GET", "POST"]), Route("/hangup", hangup)]
    return Starlette(routes=routes, lifespan=lifespan)


@pytest.fixture
def runner() -> Iterator[AppThread]:
    runner = AppThread(make_app(), drop_errors=(Hangup,)).start()
    yield runner
    runner.stop()


def test_sync_callers_see_the_lifespan_state(runner: AppThread) -> None:
    response = runner.send(httpx.Request("POST", "https://api.example/state", content=b"hi"))

    assert response.json() == {"worker": True, "in_app": True, "echo": "hi"}
    assert not in_app.get()


def test_async_callers_on_another_loop(runner: AppThread) -> None:
    async def main() -> list[int]:
        requests = [httpx.Request("GET", "https://api.example/state") for _ in range(3)]
        return [r.status_code for r in await asyncio.gather(*[runner.asend(r) for r in requests])]

    assert asyncio.run(main()) == [200, 200, 200]


def test_a_drop_error_is_a_disconnect_for_the_caller(runner: AppThread) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="disconnected"):
        runner.send(httpx.Request("GET", "https://api.example/hangup"))


def test_a_failed_startup_raises_and_leaves_no_thread() -> None:
    runner = AppThread(make_app(fail_startup=True))

    with pytest.raises(LifespanError, match="no database"):
        runner.start()

    assert not runner._thread.is_alive()
