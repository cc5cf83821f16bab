"""Result files: signed, expiring URLs and the `/files/...` endpoint that serves them.

A URL is `<base>/files/<kind>/<name>?Expires=<unix>&Signature=<sig>`, where `sig` is the unpadded
base64url HMAC-SHA256 (key: the server's signing secret) of `"<path>\\n<Expires>"`. The endpoint checks
the signature in constant time and the expiry (403 in the envelope otherwise), answers `Range` requests
(206, or 416 outside the file) and `If-None-Match` (304), with the file's Content-Type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
from typing import TYPE_CHECKING

import anyio
from starlette.responses import Response

from mock_server.errors import ApiError

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request

__all__ = ["FileServer", "Signer"]

_TYPES = {".mp4": "video/mp4", ".png": "image/png"}
_NAME = re.compile(r"^(videos|previews)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Signer:
    def __init__(self, secret: str, ttl: int) -> None:
        self._key = secret.encode()
        self.ttl = ttl
        self._cache: dict[tuple[str, int], str] = {}

    def signature(self, path: str, expires: int) -> str:
        found = self._cache.get((path, expires))
        if found is not None:
            return found
        if len(self._cache) > 10_000:
            self._cache.clear()
        found = self._cache[(path, expires)] = self._sign(path, expires)
        return found

    def _sign(self, path: str, expires: int) -> str:
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
            raise ApiError(1012, "file URL is not signed: Expires and Signature are required")
        try:
            when = int(expires)
        except ValueError:
            raise ApiError(1012, f"file URL has an invalid Expires {expires!r}") from None
        if not hmac.compare_digest(self.signature(path, when), signature):
            raise ApiError(1012, "file URL signature does not match; read the video again for a fresh URL")
        if time.time() > when:
            raise ApiError(1012, f"file URL expired at {when}; read the video again for a fresh URL")


class FileServer:
    """Serves `<root>/<kind>/<name>` for signed URLs."""

    def __init__(self, root: Path, signer: Signer) -> None:
        self.root = root
        self.signer = signer

    def disk_path(self, name: str) -> Path:
        return self.root / name

    async def serve(self, request: Request, name: str) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(1006, f"method {request.method} is not allowed on /files; use GET or HEAD")
        match = _NAME.match(name)
        if not match or ".." in name:
            raise ApiError(1007, f"no file /files/{name}")
        self.signer.verify(
            f"/files/{name}", request.query_params.get("Expires"), request.query_params.get("Signature")
        )
        path = self.disk_path(name)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise ApiError(1007, f"no file /files/{name}") from None
        size = stat.st_size
        etag = f'"{size:x}-{stat.st_mtime_ns:x}"'
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, max-age=60",
            "Content-Type": _TYPES.get(path.suffix, "application/octet-stream"),
        }
        inm = request.headers.get("if-none-match")
        if inm and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
            return Response(
                status_code=304, headers={k: v for k, v in headers.items() if k != "Content-Type"}
            )
        start, end, status = 0, size - 1, 200
        header = request.headers.get("range")
        if_range = request.headers.get("if-range")
        if header and (not if_range or if_range.strip() == etag):
            parsed = _parse_range(header, size)
            if parsed is None:
                headers["Content-Range"] = f"bytes */{size}"
                return Response(
                    b'{"code":1003,"message":"Range not satisfiable","data":null}',
                    status_code=416,
                    headers={**headers, "Content-Type": "application/json"},
                )
            start, end, status = parsed[0], parsed[1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        if request.method == "HEAD":
            headers["Content-Length"] = str(length)
            return Response(status_code=status, headers=headers)
        body = await anyio.to_thread.run_sync(_read, path, start, length)
        return Response(body, status_code=status, headers=headers)


def _read(path: Path, start: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(start)
        return handle.read(length)


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive of a single `bytes=` range, or None when it cannot be satisfied."""
    spec = header.split(",")[0].strip()
    match = _RANGE.match(spec)
    if not match or (not match.group(1) and not match.group(2)) or size == 0:
        return None
    first, last = match.group(1), match.group(2)
    if not first:
        suffix = int(last)
        if suffix == 0:
            return None
        return max(0, size - suffix), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)
