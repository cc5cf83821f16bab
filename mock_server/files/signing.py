"""Signed, expiring file URLs.

A URL is `<base>/files/<kind>/<name>?Expires=<unix>&Signature=<sig>`, where `sig` is the unpadded
base64url HMAC-SHA256 (key: the server's signing secret) of `"<path>\\n<Expires>"`. `verify` checks the
signature in constant time and the expiry (1012, HTTP 403, otherwise).
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

__all__ = ["Signer"]


class Signer:
    """Signs with `secret`; `ttl` (seconds) is the lifetime of URLs signed from now on.

    The secret may come later (`use_secret`), when it is kept in a store that is read at start-up.
    """

    def __init__(self, secret: str | None, ttl: int) -> None:
        self._key = b"" if secret is None else secret.encode()
        self.ttl = ttl
        self._cache: dict[tuple[str, int], str] = {}

    @property
    def has_secret(self) -> bool:
        return bool(self._key)

    def use_secret(self, secret: str) -> None:
        self._key = secret.encode()
        self._cache.clear()

    def signature(self, path: str, expires: int) -> str:
        found = self._cache.get((path, expires))
        if found is not None:
            return found
        if len(self._cache) > 10_000:
            self._cache.clear()
        found = self._cache[(path, expires)] = self._sign(path, expires)
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
        if not signature.isascii() or not hmac.compare_digest(self.signature(path, when), signature):
            raise ApiError(
                ErrorCode.FORBIDDEN, "file URL signature does not match; read the video again for a fresh URL"
            )
        if time.time() > when:
            raise ApiError(
                ErrorCode.FORBIDDEN, f"file URL expired at {when}; read the video again for a fresh URL"
            )
