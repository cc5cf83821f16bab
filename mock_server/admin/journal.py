"""A bounded ring buffer of the requests a server answered, for `GET /__admin/requests`.

Each entry keeps the request's and the response's headers and bodies, capped at `BODY_CAP` bytes each
(`truncated` says so), with `Authorization` replaced by the tenant's label: the journal never holds a
raw token, so the console can show it.

The request path records an entry as a function that builds it (`add_later`): the headers are decoded
and the bodies read as text when the journal is read, not on every request (most entries are never
read before the ring drops them). Its `id` and `time` are taken when it is recorded.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from mock_server.redact import redact_body

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BODY_CAP", "Entry", "Exchange", "Journal", "next_id"]

#: Bytes of each body kept in the journal.
BODY_CAP: Final = 16 * 1024

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


class Journal:
    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError(f"journal_size must be at least 1, got {size}")
        self._entries: deque[Entry | Callable[[], Entry]] = deque(maxlen=size)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def add_later(self, build: Callable[[], Entry]) -> None:
        """Record an entry that `build` makes when the journal is next read."""
        self._entries.append(build)

    def _built(self) -> list[Entry]:
        """Every entry, those recorded with `add_later` built now (once)."""
        built = [e if isinstance(e, Entry) else e() for e in self._entries]
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
