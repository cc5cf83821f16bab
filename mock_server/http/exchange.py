"""One request and its answer, as one record (`Exchange`): what the request path learns on the way in,
and what the exchange leaves behind, computed once when the answer is sent.

The pipeline (`app.Pipeline`) fills it: the caller's identity, the rate window, the operation whose
handler ran, whether test control (`Prefer`) answered. When the answer goes out (`Exchange.answer`, or
message by message for the router's answers with `Exchange.send`):

- the `X-Ratelimit-*` headers join the answer's head;
- the journal entry is recorded before the body leaves (a client that reads the journal right after its
  answer finds the exchange there), with both sides' headers and bodies capped at `journal.BODY_CAP`
  and the bearer token replaced by the tenant's label; a request that never got an answer is recorded
  with status 0;
- the request log line is handed to the log's queue (`logs.request_line`);
- an API request's metrics are observed (`Exchange.observe`).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Final, Protocol

from mock_server.admin.journal import BODY_CAP, next_id
from mock_server.logs import request_line

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

    from a2v_spec import Operation
    from mock_server.admin.journal import Journal
    from mock_server.auth import Identity
    from mock_server.http.metrics import Metrics
    from mock_server.ratelimit import Window

__all__ = ["API_PREFIX", "Exchange", "Header", "Recorder", "header_of", "json_headers"]

API_PREFIX: Final = "/v1/"
Header = tuple[bytes, bytes]


def json_headers(body: bytes, extra: list[Header] | None = None) -> list[Header]:
    """The head Starlette's `Response(body, media_type="application/json", headers=extra)` sends."""
    length = (b"content-length", str(len(body)).encode())
    return [*(extra or []), length, (b"content-type", b"application/json")]


class Recorder(Protocol):
    """What an exchange records into (the pipeline), and how an answer's head leaves (CORS's headers)."""

    journal: Journal
    metrics: Metrics
    operation_paths: frozenset[str]

    async def send_start(self, scope: Scope, message: Message, send: Send) -> None: ...


class Exchange:
    """One request and its answer: what the pipeline learns on the way in, and what is recorded once
    the answer goes out. Bodies are kept up to the journal's cap."""

    __slots__ = (
        "body_kept",
        "code",
        "forced",
        "identity",
        "operation",
        "pipeline",
        "receive_",
        "recorded",
        "request_body",
        "request_kept",
        "response_body",
        "response_headers",
        "scope",
        "send_",
        "started",
        "status",
        "validation",
        "window",
    )

    def __init__(self, pipeline: Recorder, scope: Scope, receive: Receive, send: Send) -> None:
        self.pipeline = pipeline
        self.scope = scope
        self.receive_ = receive
        self.send_ = send
        self.started = time.perf_counter()
        self.identity: Identity | None = None
        self.window: Window | None = None
        #: The operation whose handler ran (the test-mode check judges only those answers).
        self.operation: Operation | None = None
        #: Answered by test control (`Prefer`), not the API: exempt from the test-mode check.
        self.forced = False
        self.validation: str | None = None
        self.status = 0
        self.code: int | None = None
        self.response_headers: list[Header] = []
        self.request_body: list[bytes] = []
        self.response_body: list[bytes] = []
        self.body_kept = 0
        self.request_kept = 0
        self.recorded = False

    @property
    def tenant(self) -> str | None:
        return None if self.identity is None else self.identity.tenant

    async def receive(self) -> Message:
        """The server's `receive`, keeping the request body's first bytes for the journal."""
        message = await self.receive_()
        if message["type"] == "http.request" and self.request_kept <= BODY_CAP:
            chunk = message.get("body", b"")
            self.request_body.append(chunk)
            self.request_kept += len(chunk)
        return message

    # -- the answer goes out --------------------------------------------------------------------------

    async def answer(self, status: int, headers: list[Header], body: bytes) -> None:
        """A whole answer: its head, the record, then its body."""
        await self.start(status, headers)
        self.keep(body)
        self.record()
        await self.send_({"type": "http.response.body", "body": body})

    async def start(self, status: int, headers: list[Header]) -> None:
        """The answer's head, with the rate headers (and CORS's, which the journal does not keep)."""
        if self.window is not None:
            headers = [*headers, *self.window.raw_headers()]
        self.status, self.response_headers = status, headers
        message = {"type": "http.response.start", "status": status, "headers": headers}
        await self.pipeline.send_start(self.scope, message, self.send_)

    def keep(self, chunk: bytes) -> None:
        if self.code is None and self.status >= 200 and not self.response_body:
            self.code = _code(chunk)
        if self.body_kept <= BODY_CAP:
            self.response_body.append(chunk)
            self.body_kept += len(chunk)

    async def send(self, message: Message) -> None:
        """For the router's answers (files, health, unknown paths): the same record, message by message."""
        if message["type"] == "http.response.start":
            await self.start(message["status"], list(message.get("headers", [])))
            return
        if message["type"] == "http.response.body":
            self.keep(message.get("body", b""))
            if not message.get("more_body", False):
                self.record()
        await self.send_(message)

    def record(self) -> None:
        """The journal entry and the log line, once (status 0: no answer was sent). The entry is made
        when the journal is read (`Journal.record`), from what this exchange holds now."""
        if self.recorded:
            return
        self.recorded = True
        scope, tenant = self.scope, self.tenant
        duration_ms = (time.perf_counter() - self.started) * 1000
        status, code = self.status, self.code
        self.pipeline.journal.record(
            (
                time.time(),
                tenant,
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status,
                code,
                duration_ms,
                tuple(scope["headers"]),
                b"".join(self.request_body),
                tuple(self.response_headers),
                b"".join(self.response_body),
                next_id(),
            )
        )
        request_line(
            method=scope["method"],
            path=scope["path"],
            status=status,
            code=code,
            duration_ms=duration_ms,
            tenant=tenant,
            validation=self.validation,
        )

    def observe(self) -> None:
        """The metrics of an API request: by operation (its spec path, else "other"), status, code."""
        pipeline, path = self.pipeline, self.scope["path"]
        operation = path[len(API_PREFIX) :] if path in pipeline.operation_paths else "other"
        pipeline.metrics.observe_request(
            operation, self.status, self.code, time.perf_counter() - self.started
        )


def header_of(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _code(body: bytes) -> int | None:
    """The envelope's `code`, read from the first bytes when it comes first (as ours always does)."""
    if not body.startswith(b"{"):
        return None
    head = body[:40]
    if not head.startswith(b'{"code":'):
        try:
            value = json.loads(body).get("code")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None
    digits = head[8:].split(b",", 1)[0]
    try:
        return int(digits)
    except ValueError:
        return None
