"""What the mock keeps between requests: the `Store` protocol and the `Task` row.

Handlers, the task runner, auth and callbacks see only this protocol, so a PostgreSQL store (or any
other) can replace the embedded SQLite one without touching them. Every method is a coroutine, so an
implementation may do network I/O; the embedded one answers from the event loop thread in microseconds.
Writes are durable when the coroutine returns (an accepted task is never lost by a crash).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from a2v_spec import ErrorCode, Status
from mock_server.scenario_values import Plan

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Delivery", "DeliveryState", "Store", "Task", "task_from_row"]


class DeliveryState(StrEnum):
    """Where a callback delivery stands; `DELIVERED` and `FAILED` are final."""

    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (DeliveryState.DELIVERED, DeliveryState.FAILED)


#: A callback delivery record as the admin API shows it (`delivery_id`, `video_id`, `tenant`, `url`,
#: `event`, `attempts`, `last_status`, `last_error`, `state`, `created_at`, `updated_at`).
Delivery = dict[str, Any]


@dataclass
class Task:
    video_id: str
    tenant: str
    token: str
    model_id: str
    audio_url: str
    callback_url: str | None
    status: Status
    progress: int
    error_code: ErrorCode | None
    error_message: str | None
    duration: float | None
    created_at: int
    updated_at: int
    plan: Plan = field(default_factory=Plan)

    @property
    def terminal(self) -> bool:
        return self.status.is_terminal


_ROW_FIELDS = tuple(f.name for f in fields(Task) if f.name != "plan")


def task_from_row(row: Mapping[str, Any], plan: Mapping[str, Any] | None) -> Task:
    """The `Task` a `tasks` row holds, for every store: columns named as the fields (others, such as a
    page's `total`, are ignored); `plan` already decoded, since each database keeps it its own way."""
    data = {name: row[name] for name in _ROW_FIELDS}
    data["status"] = Status(data["status"])
    if data["error_code"] is not None:
        data["error_code"] = ErrorCode(data["error_code"])
    return Task(**data, plan=Plan.from_dict(dict(plan or {}), data["created_at"]))


class Store(Protocol):
    """Tasks, idempotency keys, login tokens, callback deliveries and the URL-signing secret."""

    async def secret(self) -> str:
        """The URL-signing secret, made once and kept (so signed URLs survive a restart)."""
        ...

    async def insert_task(self, task: Task) -> None: ...

    async def get_task(self, video_id: str, tenant: str | None = None) -> Task | None:
        """The task, or None when it does not exist or belongs to another tenant."""
        ...

    async def list_tasks(
        self, tenant: str | None, status: Status | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[Task], int]:
        """Newest first, and the total count (all tenants when `tenant` is None)."""
        ...

    async def unfinished(self) -> list[Task]:
        """Tasks still pending or in progress, oldest first (to resume after a restart)."""
        ...

    async def count_unfinished(self, tenant: str | None = None) -> int:
        """Tasks not yet ended, of one tenant (all when None)."""
        ...

    async def advance(
        self,
        video_id: str,
        status: Status,
        *,
        progress: int | None = None,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        """Move a task forward (never back, never out of a terminal status); None if it could not."""
        ...

    async def set_progress(self, video_id: str, progress: int) -> None:
        """Raise an in-progress task's progress (never lower it)."""
        ...

    async def delete_tenant(self, tenant: str | None) -> list[str]:
        """Delete one tenant's rows (all when None); returns the deleted video ids."""
        ...

    async def idempotent(self, tenant: str, key: str, ttl: float) -> tuple[str, str] | None:
        """(body hash, video id) remembered for this key within `ttl` seconds."""
        ...

    async def remember_key(self, tenant: str, key: str, body_hash: str, video_id: str) -> None: ...

    async def create_task(
        self, task: Task, key: str | None = None, body_hash: str = "", ttl: float = 86400.0
    ) -> tuple[str, str] | None:
        """Insert `task` and claim `key` (when given) for it, as one step: None when inserted, else the
        (body hash, video id) of the live task holding the key, which was not replaced. Two servers
        given one key at once create one task."""
        ...

    async def count_by_status(self) -> dict[str, int]:
        """Tasks per status (for the metrics)."""
        ...

    async def add_token(self, token: str, tenant: str, expired_at: int) -> None: ...

    async def token(self, token: str) -> tuple[str, int] | None:
        """(tenant, expired_at) of a login token."""
        ...

    async def save_delivery(self, record: Delivery) -> None: ...

    async def deliveries(self, tenant: str | None = None, video_id: str | None = None) -> list[Delivery]: ...

    async def aclose(self) -> None: ...


def new_video_id() -> str:
    """32 lowercase hex digits that grow with time (microseconds first), so newest-first by id agrees
    with creation order within one second."""
    return f"{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"
