"""a2v_testkit.asgi: an ASGI app on its own loop thread (lifespan included), for any caller."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from a2v_testkit.asgi import AppThread, LifespanError, app_client, in_app

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
    runner = AppThread(make_app(), drop_errors=(Hangup,), raise_app_exceptions=False).start()
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


def test_the_drop_error_is_a_disconnect_also_when_app_exceptions_are_raised() -> None:
    with AppThread(make_app(), drop_errors=(Hangup,)) as runner, pytest.raises(httpx.RemoteProtocolError):
        runner.send(httpx.Request("GET", "https://api.example/hangup"))


def test_app_exceptions_reach_the_caller_or_become_a_500() -> None:
    async def boom(request: Request) -> JSONResponse:
        raise ValueError("bad response")

    app = Starlette(routes=[Route("/boom", boom)])
    with AppThread(app) as raising, pytest.raises(ValueError, match="bad response"):
        raising.send(httpx.Request("GET", "http://app/boom"))
    with AppThread(app, raise_app_exceptions=False) as serving:
        assert serving.send(httpx.Request("GET", "http://app/boom")).status_code == 500


async def _no_lifespan(scope: dict[str, object], receive: object, send: object) -> None:
    if scope["type"] != "http":
        raise RuntimeError("only http")
    response = JSONResponse({"ok": True})
    await response(scope, receive, send)  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "starts"), [("auto", True), ("off", True), ("on", False)])
def test_an_app_without_lifespan_support(mode: str, starts: bool) -> None:
    runner = AppThread(_no_lifespan, lifespan=mode)  # type: ignore[arg-type]
    if not starts:
        with pytest.raises(LifespanError, match="only http"):
            runner.start()
        return
    with runner:
        assert runner.send(httpx.Request("GET", "http://app/")).json() == {"ok": True}


def test_sync_and_async_transports_share_one_running_app(runner: AppThread) -> None:
    with httpx.Client(transport=runner.transport(), base_url="http://app") as client:
        response = client.get("/state")
        assert response.json()["worker"] is True
        assert response.elapsed.total_seconds() >= 0  # timed by the client, as over a network

    async def main() -> object:
        async with httpx.AsyncClient(transport=runner.async_transport(), base_url="http://app") as client:
            response = await client.post("/state", content=b"async")
            assert response.elapsed.total_seconds() >= 0
            return response.json()["echo"]

    assert asyncio.run(main()) == "async"
    assert runner.send(httpx.Request("GET", "http://app/state")).status_code == 200  # still running


def test_app_client_runs_the_lifespan_for_the_block() -> None:
    stopped: list[bool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        yield {"worker_running": True}
        stopped.append(True)

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"worker": request.state.worker_running})

    app = Starlette(routes=[Route("/state", state)], lifespan=lifespan)
    with app_client(app) as client:
        assert client.get("/state").json() == {"worker": True}
        assert stopped == []
    assert stopped == [True]
