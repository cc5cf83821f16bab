"""What the mock shows of a tenant: a stable label, never the bearer token itself.

In open mode a tenant *is* its token, so logs, the admin API's listings and the console show
`tok-<first 10 hex of SHA-256(token)>` instead; login tenants (`user:<name>`) are not secrets and stay
as they are. The admin API accepts a label wherever it accepts a tenant (see `mock_server.admin`).

Example:
    >>> tenant_label("user:dev@example.com")
    'user:dev@example.com'
    >>> tenant_label("secret-token")
    'tok-930bbdc51b'
"""

from __future__ import annotations

import hashlib

__all__ = ["LABEL_PREFIX", "tenant_label"]

LABEL_PREFIX = "tok-"


def tenant_label(tenant: str | None) -> str | None:
    if tenant is None:
        return None
    if tenant.startswith("user:"):
        return tenant
    return LABEL_PREFIX + hashlib.sha256(tenant.encode("utf-8")).hexdigest()[:10]
