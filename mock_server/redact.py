"""What the mock shows of a tenant and of its secrets: a stable label, never the bearer token itself,
and recorded bodies with their passwords and tokens blanked (`redact_body`).

Tenants are stored as `auth.tenant_id` digests (`tok-<24 hex>`), which are their own labels; a tenant
stored by an older version *is* its token, so logs, the admin API's listings and the console show
`tok-<first 24 hex of SHA-256(token)>` (the tenant id a token gets today) instead; login tenants
(`user:<name>`) are not secrets and stay as they are. The admin API accepts a label wherever it
accepts a tenant (see `mock_server.admin.endpoints`).

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

import json
import re

from mock_server.auth import tenant_id

__all__ = ["LABEL_PREFIX", "REDACTED", "SECRET_FIELDS", "redact_body", "tenant_label"]

LABEL_PREFIX = "tok-"

#: JSON members whose values are secrets: `account.login`'s password and the tokens it answers, and the
#: token the admin API's `tenants/label` call is given.
SECRET_FIELDS = frozenset({"password", "access_token", "refresh_token", "token"})
#: What a secret's value becomes in a recorded body.
REDACTED = "<redacted>"

#: A JSON string token, or its start when the body was cut in the middle of it.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?$)', re.DOTALL)
_COLON = re.compile(r"\s*:\s*")
#: A value that is not a string (a number, `true`): hidden too, whatever type a client sent.
_SCALAR = re.compile(r"[^\s,}\]\[{\"]+")


def tenant_label(tenant: str | None) -> str | None:
    if tenant is None:
        return None
    if tenant.startswith(("user:", LABEL_PREFIX)):
        return tenant  # a login user, or already a digest of the token (`auth.tenant_id`)
    return tenant_id(tenant)


def _key(token: str) -> str:
    try:
        value = json.loads(token)
    except ValueError:
        return token.strip('"')
    return value if isinstance(value, str) else ""


def redact_body(text: str) -> str:
    """`text` (a recorded request or response body) with the value of every `SECRET_FIELDS` member
    replaced by `REDACTED`, the rest kept byte for byte, so the journal and the console never show a
    password or an issued token (as `Authorization` headers are shown by label).

    Pure and tolerant: the body may be cut at the journal's cap (a string left open is still hidden),
    not JSON at all (left as it is), or spell a key with escapes (`"pass\\u0077ord"`, which JSON reads
    as `password`). Strings are scanned in order, so a quoted key inside another string is not a key.

    Example:
        >>> redact_body('{"username": "dev", "password": "hunter2"}')
        '{"username": "dev", "password": "<redacted>"}'
        >>> redact_body('{"data": {"access_token": "abc", "expired_at": 1}}')
        '{"data": {"access_token": "<redacted>", "expired_at": 1}}'
    """
    if '"' not in text:
        return text
    tokens = list(_STRING.finditer(text))
    if not any(_key(t.group()) in SECRET_FIELDS for t in tokens):
        return text
    parts: list[str] = []
    done = 0
    for key in tokens:
        if key.start() < done or _key(key.group()) not in SECRET_FIELDS:
            continue
        colon = _COLON.match(text, key.end())
        if colon is None:
            continue  # not a member name: a string value, or an array item
        value = _STRING.match(text, colon.end()) or _SCALAR.match(text, colon.end())
        if value is None or not value.group():
            continue
        parts.append(text[done : value.start()])
        parts.append(json.dumps(REDACTED))
        done = value.end()
    parts.append(text[done:])
    return "".join(parts)
