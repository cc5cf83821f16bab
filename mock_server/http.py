"""The HTTP protocol the mock serves with: uvicorn's, with the request head bounded as it arrives.

uvicorn's httptools protocol keeps reading a request head however long it is (a 64 MB header is
accepted, and costs its size several times over while it is parsed and copied into the scope). The
`HeaderLimit` layer answers 431 once the request reaches the app, which is too late for memory. Here
the bytes of a head are counted as they are fed to the parser; past `max_header_bytes` the connection
gets the same 431 envelope (1016) and is closed, so at most the limit plus one read is ever held. With
h11, uvicorn's own `h11_max_incomplete_event_size` bounds the head (its answer is a plain 400).
"""

from __future__ import annotations

import importlib.util
from typing import Any

from a2v_spec import ErrorCode
from mock_server.errors import envelope_bytes

__all__ = ["server_options"]


def _bounded_httptools(limit: int) -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    body = envelope_bytes(
        ErrorCode.HEADERS_TOO_LARGE, f"request header fields are larger than the limit of {limit} bytes"
    )
    refusal = b"".join(
        [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            body,
        ]
    )

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        _in_head = False
        _head_bytes = 0

        def on_message_begin(self) -> None:
            self._in_head, self._head_bytes = True, 0
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            if self._head_bytes > limit:
                return  # refused: the connection is closing
            super().data_received(data)
            if self._in_head:
                self._head_bytes += len(data)
                if self._head_bytes > limit:
                    self.headers = []  # let the parsed part go now
                    self.transport.write(refusal)
                    self.transport.close()

    return BoundedHttpToolsProtocol


def server_options(http: str, max_header_bytes: int) -> dict[str, Any]:
    """uvicorn options for `http` ("auto", "httptools", "h11") that bound a request head."""
    # The app's `HeaderLimit` answers for heads within uvicorn's reach; leave it room for the request
    # line and framing so both agree on what is too large.
    limit = max_header_bytes + 1024
    # `X-Forwarded-*` are applied by the app (mock_server.forwarded), all four under one trust setting.
    if http == "h11" or (http == "auto" and importlib.util.find_spec("httptools") is None):
        return {"http": "h11", "h11_max_incomplete_event_size": limit, "proxy_headers": False}
    return {"http": _bounded_httptools(limit), "proxy_headers": False}
