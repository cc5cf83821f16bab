"""What the mock shows of a tenant: a stable label, never the bearer token itself.

Tenants are stored as `auth.tenant_id` digests (`tok-<24 hex>`), which are their own labels; a tenant
stored by an older version *is* its token, so logs, the admin API's listings and the console show
`tok-<first 24 hex of SHA-256(token)>` (the tenant id a token gets today) instead; login tenants
(`user:<name>`) are not secrets and stay as they are. The admin API accepts a label wherever it
accepts a tenant (see `mock_server.admin`).

Bodies the admin API shows (the journal's) carry secrets of their own: `account.login`'s password in
and its tokens out. `redact_body` blanks those JSON fields (`SECRET_FIELDS`, the string properties of
the spec's `LoginRequest` and `Tokens` other than the user name; a test holds them to the spec), in a
body cut short by the journal's cap too.

Example:
    >>> tenant_label("user:dev@example.com")
    'user:dev@example.com'
    >>> tenant_label("secret-token")
    'tok-930bbdc51b6aed5c2a5678fd'
    >>> redact_body('{"username":"me","password":"hunter2"}')
    '{"username":"me","password":"<redacted>"}'
"""

from __future__ import annotations

import re

from mock_server.auth import tenant_id

__all__ = ["LABEL_PREFIX", "SECRET_FIELDS", "redact_body", "tenant_label"]

LABEL_PREFIX = "tok-"

#: JSON fields whose values are credentials: never shown by the admin API or the console.
SECRET_FIELDS = ("password", "access_token", "refresh_token")
_SECRET = re.compile(r'("(?:' + "|".join(SECRET_FIELDS) + r')"\s*:\s*)"(?:[^"\\]|\\.)*(?:"|\\?$)')


def redact_body(body: str) -> str:
    """`body` with the value of every `SECRET_FIELDS` string replaced by `<redacted>`."""
    return _SECRET.sub(r'\1"<redacted>"', body)


def tenant_label(tenant: str | None) -> str | None:
    if tenant is None:
        return None
    if tenant.startswith(("user:", LABEL_PREFIX)):
        return tenant  # a login user, or already a digest of the token (`auth.tenant_id`)
    return tenant_id(tenant)
