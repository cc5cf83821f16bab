"""The kit's own little HTTP server on 127.0.0.1: it serves audio fixtures to the implementation and
receives its callbacks.

One Starlette app, run by uvicorn in a thread on a free port:

    GET  /audio/<name>        a registered file (fixtures, generated audio, a text file named .wav)
    GET  /missing/<name>      always 404 (for the 10001 check)
    POST /callbacks/<key>     records the delivery (headers and raw body) and answers 200
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.requests import Request

__all__ = ["CallbackDelivery", "KitServer", "free_port", "run_in_thread"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on (right now): the "unreachable audio" URL uses one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class CallbackDelivery:
    key: str
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass
class KitServer:
    """State of the kit's server: files to serve and callbacks received. `base_url` is set once running."""

    base_url: str = ""
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    deliveries: list[CallbackDelivery] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def add_file(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.files[name] = (data, content_type)
        return f"{self.base_url}/audio/{name}"

    def missing_url(self, name: str = "missing.wav") -> str:
        return f"{self.base_url}/missing/{name}"

    def callback_url(self, key: str) -> str:
        return f"{self.base_url}/callbacks/{key}"

    def wait_for_callbacks(self, key: str, count: int = 1, timeout: float = 30.0) -> list[CallbackDelivery]:
        """Deliveries to `key` once there are `count` of them (or as many as came within `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [d for d in self.deliveries if d.key == key]
                remaining = deadline - time.monotonic()
                if len(got) >= count or remaining <= 0:
                    return got
                self._cond.wait(remaining)

    def app(self) -> Starlette:
        async def audio(request: Request) -> Response:
            name = request.path_params["name"]
            if name not in self.files:
                return PlainTextResponse(f"no such fixture {name!r}", status_code=404)
            data, kind = self.files[name]
            return Response(data, media_type=kind)

        async def missing(request: Request) -> Response:
            return PlainTextResponse("not found", status_code=404)

        async def callback(request: Request) -> Response:
            body = await request.body()
            delivery = CallbackDelivery(
                key=request.path_params["key"],
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                received_at=time.time(),
            )
            with self._cond:
                self.deliveries.append(delivery)
                self._cond.notify_all()
            return PlainTextResponse("ok")

        return Starlette(
            routes=[
                Route("/audio/{name:path}", audio),
                Route("/missing/{name:path}", missing),
                Route("/callbacks/{key}", callback, methods=["POST"]),
            ]
        )


@contextmanager
def run_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a daemon thread; yields its base URL, stops it on exit."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="a2v-kit-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the kit's HTTP server did not start on {host}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def kit_server() -> Iterator[KitServer]:
    state = KitServer()
    with run_in_thread(state.app()) as url:
        state.base_url = url
        yield state
