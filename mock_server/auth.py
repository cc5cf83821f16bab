"""Bearer tokens and tenants, resolved once per request into an `Identity`.

Open mode (no `api_keys`): any non-empty token is accepted and is its own tenant, so parallel test runs
isolate themselves by using different tokens. Closed mode: only the configured keys, plus access tokens
issued by `account.login`. A login token belongs to the tenant `user:<username>` and stops working at
its `expired_at` (1002).

Tenant ids are derived, never the token: a key's tenant is `tok-<24 hex of SHA-256(token)>`, a login
user's `user:<username>`. No raw token can name a login tenant (a token `user:alice` is the tenant
`tok-...` of its hash), and the admin API, the journal and the store show ids that impersonate no one.
A token that failed authentication gets no tenant (and so no per-token state anywhere).

`Authenticator.identify(header)` parses the header and looks the token up once; the journal and the rate
limit read the identity's tenant, and an operation that needs auth calls `Identity.require()`, which
raises the error decided at lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from a2v_spec import ErrorCode, bearer_token
from a2v_spec.request_rules import MISSING_TOKEN
from mock_server.errors import ApiError

if TYPE_CHECKING:
    from mock_server.config import AuthSettings
    from mock_server.store import Store

__all__ = ["Authenticator", "Identity", "Principal", "bearer_token", "tenant_id"]

#: Tokens each cache keeps at most (the oldest is dropped first).
_CACHE_SIZE = 10_000
#: The longest `Authorization` header whose identity is kept by the header itself (see `_headers`).
_SHORT_HEADER = 256
_K = TypeVar("_K")
_V = TypeVar("_V")
#: The header's syntax is the request rules' (`a2v_spec.bearer_token`), which the proxy judges by too.
_MISSING = MISSING_TOKEN


@dataclass(frozen=True)
class Principal:
    token: str
    tenant: str


@dataclass(frozen=True)
class Identity:
    """Who sent a request: the token, its tenant (None without a token) and why it would be refused."""

    token: str | None
    tenant: str | None
    refusal: ApiError | None

    def require(self) -> Principal:
        """The caller, for an operation that needs auth; raises the refusal (1001, 1002) otherwise."""
        if self.refusal is not None:
            raise self.refusal
        assert self.token is not None
        assert self.tenant is not None
        return Principal(self.token, self.tenant)


def tenant_id(token: str) -> str:
    """The tenant of an API key or open-mode token: a digest, so it names no login user and leaks no key."""
    return "tok-" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _remember(cache: dict[_K, _V], token: _K, value: _V) -> None:
    """Keep `token` in a cache of at most `_CACHE_SIZE` entries, dropping the oldest first."""
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)))
    cache[token] = value


class Authenticator:
    def __init__(self, settings: AuthSettings, store: Store, token_ttl: int) -> None:
        self._settings = settings
        self.store = store
        self.token_ttl = token_ttl
        #: Login tokens seen, token -> (tenant, expired_at); the store stays the source of truth.
        self._issued: dict[str, tuple[str, int]] = {}
        #: Accepted tokens known not to be login tokens, by the SHA-256 digest of what was verified ->
        #: its tenant (bounded, oldest dropped first): 32 bytes a token whatever its length, where keeping
        #: the token itself let open mode's callers fill it with 10,000 tokens of 16 KB.
        self._plain: dict[bytes, str] = {}
        #: The identity of an accepted key or open-mode token by the header as sent, for headers of up to
        #: `_SHORT_HEADER` characters (at most 2.5 MB): the next request with it is neither parsed nor
        #: hashed. Never a login token's (they expire).
        self._headers: dict[str, Identity] = {}

    @property
    def settings(self) -> AuthSettings:
        """Its section of the settings only (keys, users). `--reload` hands it a new one, which drops
        what was accepted under the old keys."""
        return self._settings

    @settings.setter
    def settings(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._plain.clear()
        self._headers.clear()

    async def _lookup(self, token: str) -> tuple[str, int] | None:
        if token in self._issued:
            return self._issued[token]
        found = await self.store.token(token)
        if found is not None:  # only issued tokens are cached: an unknown one leaves nothing behind
            _remember(self._issued, token, found)
        return found

    def forget(self) -> None:
        """Drop the cache (after a reset deleted tokens)."""
        self._issued.clear()
        self._plain.clear()
        self._headers.clear()

    async def identify(self, header: str | None) -> Identity:
        if header is not None and (accepted := self._headers.get(header)) is not None:
            return accepted
        token = bearer_token(header)
        if token is None:
            return Identity(None, None, ApiError(ErrorCode.UNAUTHORIZED, _MISSING))
        digest = _digest(token)
        known = self._plain.get(digest)
        if known is not None:  # a key or open-mode token seen before: no store round trip
            return self._accepted(header, Identity(token, known, None))
        issued = await self._lookup(token)
        if issued is not None:
            tenant, expired_at = issued
            if time.time() >= expired_at:
                return Identity(
                    token, tenant, ApiError(ErrorCode.TOKEN_EXPIRED, f"token expired at {expired_at}")
                )
            return Identity(token, tenant, None)
        if self.settings.open_mode or token in self.settings.api_keys:
            tenant = tenant_id(token)
            _remember(self._plain, digest, tenant)  # accepted only: a refused one leaves nothing behind
            return self._accepted(header, Identity(token, tenant, None))
        refusal = ApiError(
            ErrorCode.UNAUTHORIZED, "unknown token; use an API key or an access_token from account.login"
        )
        return Identity(None, None, refusal)

    def _accepted(self, header: str | None, identity: Identity) -> Identity:
        if header is not None and len(header) <= _SHORT_HEADER:
            _remember(self._headers, header, identity)
        return identity

    async def login(self, username: str, password: str) -> dict[str, object]:
        users = self.settings.users
        if users or not self.settings.open_mode:
            expected = users.get(username)
            if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
                raise ApiError(ErrorCode.INVALID_CREDENTIALS, "invalid username or password")
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        expired_at = int(time.time()) + self.token_ttl
        await self.store.add_token(access, f"user:{username}", expired_at)
        return {"access_token": access, "refresh_token": refresh, "expired_at": expired_at}

    async def tenant_of(self, token_or_tenant: str) -> str:
        """The tenant a token belongs to (for the admin API, which accepts either a tenant id or a token)."""
        if token_or_tenant.startswith(("tok-", "user:")):
            return token_or_tenant
        issued = await self._lookup(token_or_tenant)
        return issued[0] if issued else tenant_id(token_or_tenant)
