"""A real uvicorn server in a background thread: for tests that need a socket.

In-process transports (`AppThread`) skip the network, so they cannot show what a client meets on the
wire: connection errors, timeouts, redirects, real concurrency, another process calling back. Those
tests run the app under uvicorn on a loopback port; `ServerThread` starts it, waits until uvicorn has
bound its socket (a failure to start, such as a failed lifespan startup or a port in use, is raised in
the caller with uvicorn's error as the cause), reports the port it really bound (so port 0 is safe under
parallel test runs) and stops it cleanly.

It serves with the project's protocol (`a2v_testkit.protocol`: Nagle off, upgrades it does not take
served as plain HTTP/1.1, bounded heads and idle connections) on a socket `listen` made, as the mock and
the proxy do, so a test meets on the wire what a user meets.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

import uvicorn

from a2v_testkit._lifecycle import Started
from a2v_testkit.protocol import listen, protocol_class

if TYPE_CHECKING:
    import socket

__all__ = ["ServerThread", "url_host"]


def url_host(host: str) -> str:
    """`host` as it is written in a URL: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class ServerThread(Started):
    """Serve an ASGI app with uvicorn on `host:port` in a daemon thread.

    `port=0` (the default) lets the system pick a free port; read the bound one from `port` or
    `base_url` once started. Extra keyword arguments go to `uvicorn.Config`; `http` is "auto" (the
    default), "httptools" or "h11" for the project's protocol on that parser, or a protocol class.

    Example:
        >>> from starlette.applications import Starlette
        >>> with ServerThread(Starlette()) as server:
        ...     httpx.get(server.url("/nothing")).status_code       # doctest: +SKIP
        404
    """

    def __init__(
        self,
        app: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        lifespan: Literal["auto", "on", "off"] = "auto",
        startup_timeout: float = 30.0,
        stop_timeout: float = 30.0,
        name: str = "a2v-testkit-server",
        **config: Any,
    ) -> None:
        config.setdefault("log_level", "warning")
        config.setdefault("access_log", False)
        config.setdefault("interface", "asgi3")  # uvicorn cannot tell a bound coroutine method is ASGI 3
        http = config.get("http", "auto")
        if isinstance(http, str):
            config["http"] = protocol_class(http=http)
        self.host = host
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan=lifespan, **config))
        self._requested_port = port
        self._failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._port: int | None = None
        self._socket: socket.socket | None = None

    def _serve(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=None if self._socket is None else [self._socket]))
        except BaseException as err:  # uvicorn exits with SystemExit when it cannot bind: report it
            self._failure.append(err)

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> ServerThread:
        """Start serving; returns once uvicorn listens (raises `RuntimeError` if it never does)."""
        where = f"{url_host(self.host)}:{self._requested_port or '<any>'}"
        try:
            self._socket = listen(self.host.strip("[]"), self._requested_port)
        except OSError as err:
            raise RuntimeError(f"the uvicorn server on {where} did not start") from err
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if self._failure or not self._thread.is_alive():
                self._thread.join(timeout=self.stop_timeout)
                self._close_socket()
                cause = self._failure[0] if self._failure else None
                raise RuntimeError(f"the uvicorn server on {where} did not start") from cause
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"the uvicorn server on {where} did not start within {self.startup_timeout} s"
                )
            time.sleep(0.005)
        self._port = int(self._socket.getsockname()[1])
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit (it runs the lifespan shutdown) and wait for the thread to end."""
        if not self._thread.is_alive():
            self._close_socket()
            return
        self.server.should_exit = True
        self._thread.join(timeout=self.stop_timeout)
        self._close_socket()
        if self._thread.is_alive():
            raise RuntimeError(
                f"the uvicorn server on {self.base_url} did not stop within {self.stop_timeout} s"
            )

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()

    # -- where it listens ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port uvicorn bound (known once started)."""
        if self._port is None:
            raise RuntimeError("the server has not started: call start() or use it in a `with` block")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + "/" + path.lstrip("/")
