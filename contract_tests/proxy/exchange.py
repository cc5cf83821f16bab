"""One request and its answer as the proxy saw them: the single value every judge and the recorder read.

Bodies are kept up to a cap (`body_limit`); `*_size` is the full length that passed, so a judge can
tell a short body from a capped one. Times are the proxy's monotonic clock (`started`, `ended`) and the
wall clock (`wall`), which is what `url_expires_at` and `Retry-After` are measured against.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Exchange", "redact", "tenant_of"]

_CURL_BODY = 2000
_HIDDEN = {"host", "content-length", "accept-encoding", "connection", "user-agent"}


def tenant_of(token: str) -> str:
    """A stable, non-secret name for a bearer token (what reports and recordings show instead of it)."""
    return "tenant-" + hashlib.sha256(token.encode()).hexdigest()[:10]


@dataclass
class Exchange:
    seq: int
    method: str
    path: str
    query: str
    request_headers: list[tuple[str, str]]
    request_body: bytes = b""
    request_size: int = 0
    upstream_url: str = ""
    started: float = 0.0
    wall: float = 0.0
    ended: float = 0.0
    status: int = 0
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes = b""
    response_size: int = 0
    #: The client went away before the answer was complete (its own timeout, usually).
    client_gave_up: bool = False
    #: The upstream could not be reached or did not answer in time (the proxy answered 502/504).
    upstream_error: str | None = None
    #: The file URL (path and query) this download was for, when it is one the proxy rewrote.
    file_path: str | None = None
    body_limit: int = 0

    # -- reading ------------------------------------------------------------------------------------
    def header(self, name: str, *, response: bool = False) -> str | None:
        lowered = name.lower()
        for key, value in self.response_headers if response else self.request_headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    @property
    def token(self) -> str | None:
        value = self.header("authorization") or ""
        scheme, _, token = value.partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    @property
    def tenant(self) -> str | None:
        token = self.token
        return tenant_of(token) if token else None

    @property
    def duration(self) -> float:
        return max(0.0, self.ended - self.started)

    @property
    def response_complete(self) -> bool:
        return self.response_size == len(self.response_body) and not self.client_gave_up

    @property
    def request_complete(self) -> bool:
        return self.request_size == len(self.request_body)

    def json(self) -> Any:
        """The response body as JSON, or None."""
        try:
            return json.loads(self.response_body) if self.response_complete else None
        except ValueError:
            return None

    def request_json(self) -> Any:
        try:
            return json.loads(self.request_body)
        except ValueError:
            return None

    # -- as httpx values, for the kit's own check functions ---------------------------------------
    def as_request(self) -> httpx.Request:
        return httpx.Request(
            self.method,
            self.upstream_url,
            headers=[(k, v) for k, v in self.request_headers if k.lower() not in ("content-length",)],
            content=self.request_body,
        )

    def as_response(self) -> httpx.Response:
        headers = [(k, v) for k, v in self.response_headers if k.lower() not in ("content-encoding",)]
        return httpx.Response(
            self.status, headers=headers, content=self.response_body, request=self.as_request()
        )

    def curl(self, secrets: frozenset[str] = frozenset()) -> str:
        """The request as a curl command: the bearer token as `$A2V_TOKEN`, other `secrets` hidden."""
        parts = ["curl", "-i", "-X", shlex.quote(self.method)]
        for name, value in self.request_headers:
            if name.lower() in _HIDDEN:
                continue
            if name.lower() == "authorization" and value.lower().startswith("bearer "):
                parts += ["-H", '"Authorization: Bearer $A2V_TOKEN"']
                continue
            parts += ["-H", shlex.quote(f"{name}: {redact(value, secrets)}")]
        if self.request_body:
            # Hidden before cut, so a secret split by the cut cannot survive in part.
            body = redact(self.request_body.decode("utf-8", "replace"), secrets)[:_CURL_BODY]
            if len(self.request_body) > _CURL_BODY or not self.request_complete:
                body += f"...({self.request_size} bytes in all)"
            parts += ["--data-binary", shlex.quote(body)]
        parts.append(shlex.quote(redact(self.upstream_url, secrets)))
        return " ".join(parts)


def redact(text: str, secrets: frozenset[str], replace: Callable[[str], str] = lambda _: "$A2V_TOKEN") -> str:
    """`text` with every secret that stands on its own (not inside a longer word) replaced."""
    for secret in secrets:
        if secret and secret in text:
            pattern = rf"(?<![A-Za-z0-9_.~-]){re.escape(secret)}(?![A-Za-z0-9_.~-])"
            text = re.sub(pattern, lambda _, s=secret: replace(s), text)  # type: ignore[misc]
    return text
