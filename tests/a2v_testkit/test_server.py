"""a2v_testkit.server: uvicorn in a thread reports its real port, runs the lifespan and stops cleanly."""

from __future__ import annotations

import contextlib
import socket
from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from a2v_testkit.ports import free_port
from a2v_testkit.server import ServerThread, url_host

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request


def make_app(events: list[str], fail: bool = False) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if fail:
            raise RuntimeError("no database")
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"hello from {request.url.port}")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def test_port_zero_reports_the_bound_port_and_serves() -> None:
    events: list[str] = []
    with ServerThread(make_app(events)) as server:
        response = httpx.get(server.url("/"))
        assert server.port > 0
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert response.text == f"hello from {server.port}"
        assert events == ["startup"]

    assert events == ["startup", "shutdown"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url("/"))


def test_a_given_port_is_used() -> None:
    port = free_port()
    with ServerThread(make_app([]), port=port) as server:
        assert server.port == port


def test_a_failed_lifespan_startup_is_raised_in_the_caller() -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        ServerThread(make_app([], fail=True), lifespan="on").start()


def test_a_port_in_use_is_raised_in_the_caller() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port} did not start"):
            ServerThread(make_app([]), port=port).start()


def test_the_port_is_unknown_before_start() -> None:
    with pytest.raises(RuntimeError, match="has not started"):
        _ = ServerThread(make_app([])).port


@pytest.mark.parametrize(
    ("host", "written"), [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]"), ("[::1]", "[::1]")]
)
def test_url_host_brackets_ipv6(host: str, written: str) -> None:
    assert url_host(host) == written
