"""Fixtures for the proxy's tests: any ASGI app on a real 127.0.0.1 socket, and a proxy in front of one."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit import ServerThread
from contract_tests.proxy import Proxy, ProxyConfig, create_app
from contract_tests.proxy.exchange import Exchange

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Served:
    base_url: str
    app: Any


@contextlib.contextmanager
def serve(app: Any) -> Iterator[Served]:
    """Serve an ASGI app with uvicorn on a free 127.0.0.1 port for the `with` block."""
    with ServerThread(app, lifespan="on") as server:
        yield Served(server.base_url, app)


@dataclass
class RunningProxy:
    base_url: str
    proxy: Proxy

    def ids(self, side: str) -> set[str]:
        return self.proxy.judge.ids(side)

    def texts(self, side: str | None = None) -> str:
        return "\n".join(v.text() for v in self.proxy.judge.violations if side in (None, v.side))


StartProxy = Any  # (upstream, **config) -> context manager of RunningProxy


@pytest.fixture
def start_proxy() -> StartProxy:
    """`with start_proxy(upstream_url, **config) as running:` a proxy on a real socket."""

    @contextlib.contextmanager
    def start(upstream: str, **config: Any) -> Iterator[RunningProxy]:
        app = create_app(ProxyConfig(upstream=upstream, **config))
        with serve(app) as served:
            yield RunningProxy(served.base_url, app.proxy)

    return start


def exchange(
    method: str = "GET",
    path: str = "/v1/a2v/character.list",
    query: str = "",
    *,
    token: str | None = "tok",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    status: int = 200,
    answer: Any = None,
    response_headers: dict[str, str] | None = None,
    at: float = 0.0,
    took: float = 0.01,
    seq: int = 1,
) -> Exchange:
    """One exchange as the proxy would have seen it (for the judges' unit tests, no sockets)."""
    import json

    request_headers = [("authorization", f"Bearer {token}")] if token else []
    request_headers += list((headers or {}).items())
    content = json.dumps(answer).encode() if answer is not None else b""
    answer_headers = {"content-type": "application/json", "x-ratelimit-total": "30", "x-ratelimit-left": "29",
                      "x-ratelimit-reset": "60", **(response_headers or {})}  # fmt: skip
    return Exchange(
        seq=seq,
        method=method,
        path=path,
        query=query,
        request_headers=request_headers,
        request_body=body,
        request_size=len(body),
        upstream_url=f"http://upstream{path}{'?' + query if query else ''}",
        started=at,
        wall=1_000_000.0 + at,
        ended=at + took,
        status=status,
        response_headers=list(answer_headers.items()),
        response_body=content,
        response_size=len(content),
        body_limit=1 << 20,
    )
