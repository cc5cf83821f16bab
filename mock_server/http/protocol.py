"""The HTTP protocol the mock serves with: the project's (`a2v_testkit.protocol`), with the mock's numbers
and its refusals as the API envelope.

- Nagle off on every connection (an answer never waits for the client's delayed ACK).
- `Upgrade: h2c` (Java's `HttpClient` sends it on every `http://` request), or any upgrade the mock
  does not take, is served as plain HTTP/1.1 with its body.
- A request head is counted as it arrives: past `max_header_bytes` (plus room for the request line and
  framing, so the app's own 431 answers what uvicorn lets through) the connection gets the 431 envelope
  (1016) and is closed, so at most the limit plus one read is ever held.
- `HEAD_TIMEOUT` seconds for a head to complete from its first byte, `IDLE_TIMEOUT` seconds with nothing
  in flight (a new connection that sends nothing included), `max_connections` open at once (1000, or half
  the open-file limit): past it, the longest-idle connection makes room, else the new one is answered
  503 (1014, `Retry-After: 1`) and closed. docs/security.md, "Connections", lists them.
- A request the parser rejects (a bad request line or header field) gets the 400 envelope (1003) and the
  connection is closed, not uvicorn's plain-text "Invalid HTTP request received.".
"""

from __future__ import annotations

from typing import Any, Final

from a2v_spec import ErrorCode
from a2v_testkit.protocol import ConnectionLimits, uvicorn_options
from mock_server.errors import envelope_bytes

__all__ = ["HEAD_TIMEOUT", "IDLE_TIMEOUT", "MAX_CONNECTIONS", "connection_limits", "server_options"]

#: Seconds from a request head's first byte until it must be complete.
HEAD_TIMEOUT: Final = 10.0
#: Seconds a connection may stay open with nothing in flight.
IDLE_TIMEOUT: Final = 5.0
#: Open connections at most; 0: 1000, or half the process's open-file limit when that is lower.
MAX_CONNECTIONS: Final = 0


def _refusal(status: str, code: ErrorCode, message: str, extra: bytes = b"") -> bytes:
    body = envelope_bytes(code, message)
    return b"".join(
        [
            f"HTTP/1.1 {status}\r\n".encode(),
            b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            extra,
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def connection_limits(max_header_bytes: int, max_connections: int | None = None) -> ConnectionLimits:
    """The mock's limits: heads bounded at `max_header_bytes` (plus 1 KiB for the request line and
    framing), refusals as the envelope."""
    limit = max_header_bytes + 1024
    return ConnectionLimits(
        head_timeout=HEAD_TIMEOUT,
        idle_timeout=IDLE_TIMEOUT,
        max_connections=MAX_CONNECTIONS if max_connections is None else max_connections,
        max_head_bytes=limit,
        head_refusal=_refusal(
            "431 Request Header Fields Too Large",
            ErrorCode.HEADERS_TOO_LARGE,
            f"request header fields are larger than the limit of {limit} bytes",
        ),
        busy_refusal=_refusal(
            "503 Service Unavailable",
            ErrorCode.SERVICE_UNAVAILABLE,
            "the mock has too many open connections; retry in 1 s",
            b"retry-after: 1\r\n",
        ),
        malformed_refusal=_refusal(
            "400 Bad Request",
            ErrorCode.INVALID_PARAMETER,
            "the request could not be parsed as HTTP/1.1 (its request line or a header field is malformed)",
        ),
    )


def server_options(http: str, max_header_bytes: int, max_connections: int | None = None) -> dict[str, Any]:
    """uvicorn options for `http` ("auto", "httptools", "h11"): the mock's protocol and its limits."""
    # `X-Forwarded-*` are applied by the app (mock_server.forwarded), all four under one trust setting.
    return {
        **uvicorn_options(connection_limits(max_header_bytes, max_connections), http),
        "proxy_headers": False,
    }
