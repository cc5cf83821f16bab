"""Which tenants the server has seen, and what a `tenant` parameter of the admin API names.

Listings show tenants by label (`mock_server.redact`), so every `tenant` parameter accepts a label as
well as a tenant id or a token.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Protocol

from a2v_spec import ErrorCode
from mock_server.auth import tenant_id
from mock_server.errors import ApiError
from mock_server.redact import LABEL_PREFIX

if TYPE_CHECKING:
    from mock_server.admin.journal import Journal
    from mock_server.auth import Authenticator
    from mock_server.store import Store

__all__ = ["TenantServices", "known_tenants", "resolve_tenant"]

#: A label as `auth.tenant_id` makes it (`tok-` and 24 hex digits): it is the tenant's id itself.
_LABEL = re.compile(rf"^{LABEL_PREFIX}[0-9a-f]{{{len(tenant_id('')) - len(LABEL_PREFIX)}}}$")


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
    """A tenant id, a token or a label -> the tenant; a `tok-` value that is no label is refused (1003)."""
    if not value:
        return None
    if value.startswith(LABEL_PREFIX):
        # A derived tenant id is its own label (`auth.tenant_id`; raw-token tenants of older data
        # directories are renamed at open), so a well-formed label *is* the tenant, known or not: one
        # with nothing stored yet (a token the console just switched to, a tenant just reset) lists
        # nothing, as its token would, instead of failing every call the console polls.
        if _LABEL.match(value):
            return value
        raise ApiError(
            ErrorCode.INVALID_PARAMETER,
            f"invalid parameter 'tenant': no tenant is labelled {value!r}"
            f" (a label is {LABEL_PREFIX} and {len(tenant_id('')) - len(LABEL_PREFIX)} hex digits)",
        )
    return await services.auth.tenant_of(value)
