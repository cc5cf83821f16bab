"""The kit's own little HTTP server: it serves audio fixtures to the implementation and receives its
callbacks.

A host from the test toolkit (`a2v_testkit.FileHost`, uvicorn in a thread), on 127.0.0.1 and a free
port by default. A remote implementation cannot reach loopback: `--listen HOST:PORT` binds it where the
implementation can, and `--public-url URL` is the address the implementation is given (behind a NAT,
a tunnel or a proxy the two differ):

    GET  /audio/<name>        a registered file (fixtures, generated audio, a text file named .wav)
    GET  /missing/<name>      always 404 (for the 10001 check)
    POST /callbacks/<key>     records the delivery (headers and raw body) and answers 200
    POST /flaky/<key>         the same, but answers 500 to the first `failures` deliveries
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from a2v_testkit import FileHost, Replies, Reply, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from a2v_testkit import Recorded

__all__ = ["CallbackDelivery", "KitServer", "free_port", "kit_server", "parse_listen"]

_CALLBACKS = "/callbacks/"
_FLAKY = "/flaky/"


@dataclass(frozen=True)
class CallbackDelivery:
    key: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @classmethod
    def of(cls, request: Recorded) -> CallbackDelivery:
        key = request.path.removeprefix(_CALLBACKS).removeprefix(_FLAKY)
        return cls(key, request.headers, request.body, request.received_at)


class KitServer:
    """The kit's server: files to serve and callbacks received, on a running `FileHost`.

    Every URL it hands out starts with `public_url` when given (else the address it is bound to).
    """

    def __init__(self, host: FileHost, public_url: str | None = None) -> None:
        self.host = host
        self.public_url = public_url.rstrip("/") if public_url else None
        #: Files served under /audio/, by name: (bytes, content type).
        self.files: dict[str, tuple[bytes, str]] = {}
        host.route(_CALLBACKS + "{key}", Reply(b"ok", content_type="text/plain"), methods=["POST"])

    @property
    def base_url(self) -> str:
        """Where the implementation reaches the kit's server."""
        return self.public_url or self.host.base_url

    def url(self, path: str) -> str:
        return self.base_url + "/" + path.lstrip("/")

    @property
    def public_host(self) -> str:
        """The host name or address in `base_url` (where a closed port is "unreachable")."""
        return urlsplit(self.base_url).hostname or "127.0.0.1"

    def add_file(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.files[name] = (data, content_type)
        self.host.add(f"/audio/{name}", data, content_type)
        return self.url(f"/audio/{name}")

    def missing_url(self, name: str = "missing.wav") -> str:
        return self.url(f"/missing/{name}")  # never registered: 404

    def callback_url(self, key: str) -> str:
        return self.url(_CALLBACKS + key)

    @property
    def deliveries(self) -> list[CallbackDelivery]:
        """Every callback received so far, oldest first."""
        posts = self.host.requests(method="POST")
        return [CallbackDelivery.of(r) for r in posts if r.path.startswith(_CALLBACKS)]

    def flaky_callback_url(self, key: str, failures: int = 1) -> str:
        """A receiver that answers 500 to the first `failures` deliveries, then 200 (retries)."""
        ok = Reply(b"ok", content_type="text/plain")
        self.host.route(_FLAKY + key, Replies([500] * failures, then=ok), methods=["POST"])
        return self.url(_FLAKY + key)

    def wait_for_callbacks(
        self, key: str, count: int = 1, timeout: float = 30.0, *, flaky: bool = False
    ) -> list[CallbackDelivery]:
        """Deliveries to `key` once there are `count` of them (or as many as came within `timeout`)."""
        path = (_FLAKY if flaky else _CALLBACKS) + key
        try:
            got = self.host.wait_for(count, path, method="POST", timeout=timeout)
        except TimeoutError:
            got = self.host.requests(path, method="POST")
        return [CallbackDelivery.of(r) for r in got]


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6) as (host, port); a clear error for anything else."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen must be HOST:PORT (e.g. 0.0.0.0:8765), got {listen!r}")
    return host.strip("[]"), int(port)


@contextmanager
def kit_server(listen: str | None = None, public_url: str | None = None) -> Iterator[KitServer]:
    """The kit's server, on `listen` (HOST:PORT; default 127.0.0.1 and a free port)."""
    host, port = parse_listen(listen) if listen else ("127.0.0.1", 0)
    with FileHost(host=host, port=port) as file_host:
        yield KitServer(file_host, public_url)
