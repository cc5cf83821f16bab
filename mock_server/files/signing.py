"""Signed, expiring file URLs.

A URL is `<base>/files/<kind>/<name>?Expires=<unix>&Signature=<sig>`, where `sig` is the unpadded
base64url HMAC-SHA256 (key: the server's signing secret) of `"<path>\\n<Expires>"`. `verify` checks the
signature in constant time and the expiry (1012, HTTP 403, otherwise).

Signatures the server makes (`url`, on every `video.get`) are cached, at most `CACHE_BYTES` of paths;
`verify` only reads that cache: a path and `Expires` are chosen by whoever sends the URL, so a miss
is computed (one HMAC) and never kept, and no caller can grow the server's memory with made-up names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from a2v_spec import ErrorCode
from mock_server.errors import ApiError

_CANONICAL_EXPIRES = re.compile(r"[1-9][0-9]{0,15}")
#: Bytes of cached signatures kept at most (each entry counted as its path, 8 for `Expires` and 43 for
#: the signature); past it the cache starts again empty.
CACHE_BYTES = 1 << 20
_ENTRY_OVERHEAD = 8 + 43

__all__ = ["CACHE_BYTES", "Signer"]


class Signer:
    """Signs with `secret`; `ttl` (seconds) is the lifetime of URLs signed from now on.

    The secret may come later (`use_secret`), when it is kept in a store that is read at start-up.
    """

    def __init__(self, secret: str | None, ttl: int) -> None:
        self._key = b"" if secret is None else secret.encode()
        self.ttl = ttl
        self._cache: dict[tuple[str, int], str] = {}
        self._cache_bytes = 0

    @property
    def has_secret(self) -> bool:
        return bool(self._key)

    def use_secret(self, secret: str) -> None:
        self._key = secret.encode()
        self._forget()

    @property
    def cache_bytes(self) -> int:
        """Bytes the signature cache holds (as counted against `CACHE_BYTES`)."""
        return self._cache_bytes

    def _forget(self) -> None:
        self._cache.clear()
        self._cache_bytes = 0

    def signature(self, path: str, expires: int) -> str:
        """The signature of a URL the server gives out (cached: the same one is read again and again)."""
        found = self._cache.get((path, expires))
        if found is not None:
            return found
        size = len(path) + _ENTRY_OVERHEAD
        if self._cache_bytes + size > CACHE_BYTES:
            self._forget()
        found = self._cache[(path, expires)] = self._sign(path, expires)
        self._cache_bytes += size
        return found

    def _sign(self, path: str, expires: int) -> str:
        if not self._key:
            raise RuntimeError("the URL signer has no secret yet: start the server (its lifespan) first")
        digest = hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, base_url: str, path: str, now: float | None = None) -> tuple[str, int]:
        """An absolute signed URL of `path` (e.g. `/files/videos/x.mp4`) and when it expires."""
        expires = int(now if now is not None else time.time()) + self.ttl
        return (
            f"{base_url.rstrip('/')}{path}?Expires={expires}&Signature={self.signature(path, expires)}",
            expires,
        )

    def verify(self, path: str, expires: str | None, signature: str | None) -> None:
        if not expires or not signature:
            raise ApiError(ErrorCode.FORBIDDEN, "file URL is not signed: Expires and Signature are required")
        # Canonical only: ASCII digits, no sign, no leading zero, no `_`, so one instant has one spelling.
        if not _CANONICAL_EXPIRES.fullmatch(expires):
            raise ApiError(ErrorCode.FORBIDDEN, "file URL has an invalid Expires: ASCII digits expected")
        when = int(expires)
        # compare_digest refuses non-ASCII text with a TypeError; such a signature is simply wrong.
        expected = self._cache.get((path, when)) or self._sign(path, when)  # a miss is not kept
        if not signature.isascii() or not hmac.compare_digest(expected, signature):
            raise ApiError(
                ErrorCode.FORBIDDEN, "file URL signature does not match; read the video again for a fresh URL"
            )
        if time.time() > when:
            raise ApiError(
                ErrorCode.FORBIDDEN, f"file URL expired at {when}; read the video again for a fresh URL"
            )
