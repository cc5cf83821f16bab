"""Which tenants the server has seen, and what a `tenant` parameter of the admin API names.

Listings show tenants by label (`mock_server.redact`), so every `tenant` parameter accepts a label as
well as a tenant id or a token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from a2v_spec import ErrorCode
from mock_server.errors import ApiError
from mock_server.redact import LABEL_PREFIX

if TYPE_CHECKING:
    from mock_server.auth import Authenticator
    from mock_server.journal import Journal
    from mock_server.store import Store

__all__ = ["TenantServices", "known_tenants", "resolve_tenant"]


class TenantServices(Protocol):
    @property
    def store(self) -> Store: ...
    @property
    def journal(self) -> Journal: ...
    @property
    def auth(self) -> Authenticator: ...


async def known_tenants(services: TenantServices) -> dict[str, dict[str, Any]]:
    """Every tenant with a task or a journal entry -> its counts (keyed by the raw tenant)."""
    found: dict[str, dict[str, Any]] = {}
    tasks, _ = await services.store.list_tasks(None, None, limit=100_000)
    for task in tasks:
        row = found.setdefault(task.tenant, {"tasks": 0, "unfinished": 0, "last": 0})
        row["tasks"] += 1
        row["unfinished"] += 0 if task.terminal else 1
        row["last"] = max(row["last"], task.updated_at)
    for entry in services.journal.query():
        if entry["tenant"] is not None:
            row = found.setdefault(entry["tenant"], {"tasks": 0, "unfinished": 0, "last": 0})
            row["last"] = max(row["last"], int(entry["time"]))
    return found


async def resolve_tenant(services: TenantServices, value: str | None) -> str | None:
    """A tenant id, a token or a label -> the tenant; an unknown label is refused with 1003."""
    if not value:
        return None
    if value.startswith(LABEL_PREFIX):
        # A derived tenant id is its own label (`auth.tenant_id`; raw-token tenants of older data
        # directories are renamed at open), so one look in each place tells whether it is known,
        # instead of listing every tenant on each admin request the console polls.
        _, tasks = await services.store.list_tasks(value, None, limit=1)
        if tasks or services.journal.query(tenant=value, limit=1):
            return value
        raise ApiError(
            ErrorCode.INVALID_PARAMETER, f"invalid parameter 'tenant': no tenant is labelled {value!r}"
        )
    return await services.auth.tenant_of(value)
