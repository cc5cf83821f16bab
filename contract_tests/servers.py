"""The kit's own little HTTP server on 127.0.0.1: it serves audio fixtures to the implementation and
receives its callbacks.

A loopback host from the test toolkit (`a2v_testkit.FileHost`, uvicorn in a thread on a free port):

    GET  /audio/<name>        a registered file (fixtures, generated audio, a text file named .wav)
    GET  /missing/<name>      always 404 (for the 10001 check)
    POST /callbacks/<key>     records the delivery (headers and raw body) and answers 200
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from a2v_testkit import FileHost, Reply, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from a2v_testkit import Recorded

__all__ = ["CallbackDelivery", "KitServer", "free_port", "kit_server"]

_CALLBACKS = "/callbacks/"


@dataclass(frozen=True)
class CallbackDelivery:
    key: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    @classmethod
    def of(cls, request: Recorded) -> CallbackDelivery:
        return cls(request.path.removeprefix(_CALLBACKS), request.headers, request.body, request.received_at)


class KitServer:
    """The kit's server: files to serve and callbacks received, on a running `FileHost`."""

    def __init__(self, host: FileHost) -> None:
        self.host = host
        #: Files served under /audio/, by name: (bytes, content type).
        self.files: dict[str, tuple[bytes, str]] = {}
        host.route(_CALLBACKS + "{key}", Reply(b"ok", content_type="text/plain"), methods=["POST"])

    @property
    def base_url(self) -> str:
        return self.host.base_url

    def add_file(self, name: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.files[name] = (data, content_type)
        return self.host.add(f"/audio/{name}", data, content_type)

    def missing_url(self, name: str = "missing.wav") -> str:
        return self.host.url(f"/missing/{name}")  # never registered: 404

    def callback_url(self, key: str) -> str:
        return self.host.url(_CALLBACKS + key)

    @property
    def deliveries(self) -> list[CallbackDelivery]:
        """Every callback received so far, oldest first."""
        posts = self.host.requests(method="POST")
        return [CallbackDelivery.of(r) for r in posts if r.path.startswith(_CALLBACKS)]

    def wait_for_callbacks(self, key: str, count: int = 1, timeout: float = 30.0) -> list[CallbackDelivery]:
        """Deliveries to `key` once there are `count` of them (or as many as came within `timeout`)."""
        path = _CALLBACKS + key
        try:
            got = self.host.wait_for(count, path, method="POST", timeout=timeout)
        except TimeoutError:
            got = self.host.requests(path, method="POST")
        return [CallbackDelivery.of(r) for r in got]


@contextmanager
def kit_server() -> Iterator[KitServer]:
    with FileHost() as host:
        yield KitServer(host)
