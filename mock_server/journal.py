"""A bounded ring buffer of the requests a server answered, for `GET /__admin/journal`."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Entry", "Journal"]


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


class Journal:
    def __init__(self, size: int = 1000) -> None:
        if size < 1:
            raise ValueError(f"journal_size must be at least 1, got {size}")
        self._entries: deque[Entry] = deque(maxlen=size)

    def add(self, entry: Entry) -> None:
        self._entries.append(entry)

    def reset(self, tenant: str | None = None) -> None:
        if tenant is None:
            self._entries.clear()
        else:
            kept = [e for e in self._entries if e.tenant != tenant]
            self._entries.clear()
            self._entries.extend(kept)

    def query(
        self,
        *,
        tenant: str | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Matching entries, newest last; `limit` keeps the newest ones."""
        found = [
            e
            for e in self._entries
            if (tenant is None or e.tenant == tenant)
            and (method is None or e.method == method.upper())
            and (path is None or e.path == path)
            and (status is None or e.status == status)
        ]
        if limit is not None:
            found = found[-limit:] if limit > 0 else []
        return [asdict(e) for e in found]
