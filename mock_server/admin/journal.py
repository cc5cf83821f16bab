"""A bounded ring buffer of the requests a server answered, for `GET /__admin/requests`.

Each entry keeps the request's and the response's headers and bodies, capped at `BODY_CAP` bytes each
(`truncated` says so), with `Authorization` replaced by the tenant's label: the journal never holds a
raw token, so the console can show it.

The request path records an exchange as it is (`Journal.record`, a `Recorded` tuple of bytes, strings
and numbers): the headers are decoded and the bodies read as text when the journal is read, not on every
request (most entries are never read before the ring drops them). Its `id` and `time` are taken when it
is recorded. A tuple of such atoms is one the garbage collector stops tracking within a pass or two, so
a thousand exchanges waiting in the ring never reach the oldest generation, whose full collections, when
each waiting entry was a closure over the exchange's lists, stalled every request under load for tens of
milliseconds at a time.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from mock_server.redact import redact_body, tenant_label

__all__ = ["BODY_CAP", "Entry", "Exchange", "Journal", "Recorded", "next_id"]

#: Bytes of each body kept in the journal.
BODY_CAP: Final = 16 * 1024
#: Characters of a path or query an entry keeps (the head limit bounds them too).
_KEPT_CHARS: Final = 2048

RawHeaders = tuple[tuple[bytes, bytes], ...]
#: One exchange as the request path records it: time, tenant, method, path, query, status, envelope
#: code, duration (ms), request headers and body, response headers and body (each body's first
#: `BODY_CAP` bytes or more), entry id.
Recorded = tuple[
    float, str | None, str, str, bytes, int, int | None, float, RawHeaders, bytes, RawHeaders, bytes, int
]

_ids = itertools.count(1)


def next_id() -> int:
    """The id of the next entry (ids grow in the order entries are recorded)."""
    return next(_ids)


@dataclass(slots=True)
class Exchange:
    """One side of an exchange: headers (lower-case names) and the body's first `BODY_CAP` bytes."""

    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    truncated: bool = False
    size: int = 0

    @classmethod
    def of(cls, headers: dict[str, str], body: bytes) -> Exchange:
        kept = body[:BODY_CAP]
        text = redact_body(kept.decode("utf-8", "replace"))  # passwords and issued tokens hidden
        return cls(headers, text, len(body) > BODY_CAP, len(body))


@dataclass(slots=True)
class Entry:
    time: float
    tenant: str | None
    method: str
    path: str
    query: str
    status: int
    code: int | None
    duration_ms: float
    request: Exchange = field(default_factory=Exchange)
    response: Exchange = field(default_factory=Exchange)
    id: int = field(default_factory=lambda: next(_ids))

    @classmethod
    def of(cls, recorded: Recorded) -> Entry:
        """The entry of an exchange as recorded, its headers decoded (the token replaced by its tenant's
        label) and its bodies read as text."""
        at, tenant, method, path, query, status, code, duration_ms = recorded[:8]
        request_headers, request_body, response_headers, response_body, entry_id = recorded[8:]
        return cls(
            time=at,
            tenant=tenant,
            method=method,
            path=path[:_KEPT_CHARS],
            query=query[:_KEPT_CHARS].decode("latin-1"),
            status=status,
            code=code,
            duration_ms=round(duration_ms, 3),
            request=Exchange.of(_headers(request_headers, tenant), request_body),
            response=Exchange.of(_headers(response_headers, None), response_body),
            id=entry_id,
        )


def _headers(raw: RawHeaders, tenant: str | None) -> dict[str, str]:
    """Headers for the journal, with the bearer token replaced by the tenant's label."""
    headers: dict[str, str] = {}
    for key, value in raw:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        if name == "authorization":
            text = f"Bearer <{tenant_label(tenant) or 'token'}>"
        headers[name] = text if name not in headers else f"{headers[name]}, {text}"
    return headers


class Journal:
    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError(f"journal_size must be at least 1, got {size}")
        self._entries: deque[Entry | Recorded] = deque(maxlen=size)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def record(self, recorded: Recorded) -> None:
        """Keep an exchange as recorded; its entry is made when the journal is next read."""
        self._entries.append(recorded)

    def _built(self) -> list[Entry]:
        """Every entry, those kept with `record` made now (once)."""
        built = [e if isinstance(e, Entry) else Entry.of(e) for e in self._entries]
        self._entries.clear()
        self._entries.extend(built)
        return built

    def reset(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._entries.clear()
        else:
            kept = [e for e in self._built() if e.tenant != tenant]
            self._entries.clear()
            self._entries.extend(kept)

    def query(
        self,
        *,
        tenant: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        code: int | None = None,
        contains: str | None = None,
        since: float | None = None,
        limit: int | None = None,
        bodies: bool = False,
    ) -> list[dict[str, Any]]:
        """Matching entries, newest last; `limit` keeps the newest ones. `path` ending in `*` is a
        prefix; `contains` looks in both bodies. Without `bodies`, entries are the short form."""
        prefix = path[:-1] if path is not None and path.endswith("*") else None
        found = [
            e
            for e in self._built()
            if (tenant is None or e.tenant == tenant)
            and (method is None or e.method == method.upper())
            and (path is None or (e.path.startswith(prefix) if prefix is not None else e.path == path))
            and (status is None or e.status == status)
            and (code is None or e.code == code)
            and (since is None or e.time >= since)
            and (contains is None or contains in e.request.body or contains in e.response.body)
        ]
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        if bodies:
            return [asdict(e) for e in found]
        return [{k: v for k, v in asdict(e).items() if k not in ("request", "response", "id")} for e in found]
