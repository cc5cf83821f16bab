"""What the mock shows of a tenant: a stable label, never the bearer token itself.

Tenants are stored as `auth.tenant_id` digests (`tok-<24 hex>`), which are their own labels; a tenant
stored by an older version *is* its token, so logs, the admin API's listings and the console show
`tok-<first 24 hex of SHA-256(token)>` (the tenant id a token gets today) instead; login tenants
(`user:<name>`) are not secrets and stay as they are. The admin API accepts a label wherever it
accepts a tenant (see `mock_server.admin`).

Example:
    >>> tenant_label("user:dev@example.com")
    'user:dev@example.com'
    >>> tenant_label("secret-token")
    'tok-930bbdc51b6aed5c2a5678fd'
"""

from __future__ import annotations

from mock_server.auth import tenant_id

__all__ = ["LABEL_PREFIX", "tenant_label"]

LABEL_PREFIX = "tok-"


def tenant_label(tenant: str | None) -> str | None:
    if tenant is None:
        return None
    if tenant.startswith(("user:", LABEL_PREFIX)):
        return tenant  # a login user, or already a digest of the token (`auth.tenant_id`)
    return tenant_id(tenant)
