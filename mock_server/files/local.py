"""The embedded file store: a directory, `<data_dir>/files`, served with Starlette's `FileResponse`.

`FileResponse` answers `Range` (206, multipart for several ranges, 416 outside the file), `If-Range`,
`ETag`, `Last-Modified` and HEAD, and streams in 64 KiB chunks; this module adds only `If-None-Match`
(304, which Starlette does in `StaticFiles` but not in `FileResponse`) and our envelope for the two
errors `FileResponse` answers in plain text (416, and 400 for a malformed `Range`).
"""

from __future__ import annotations

import os
import shutil
import stat
from typing import TYPE_CHECKING

import anyio
from starlette.responses import FileResponse, Response

from a2v_spec import ErrorCode
from mock_server.errors import NoOperation, envelope_bytes
from mock_server.files.permissions import FILE_MODE, private_dir
from mock_server.files.protocol import CONTENT_TYPES

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["LocalFileStore", "remove_files"]

_CACHE = {"Cache-Control": "private, max-age=60"}


def remove_files(directory: Path) -> int:
    """Remove the files left in a staging directory (a render that died mid-way); returns how many."""
    removed = 0
    for leftover in directory.iterdir():
        if leftover.is_file():
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


class LocalFileStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        private_dir(root)
        private_dir(root / "videos")
        self._staging = private_dir(root.parent / "tmp")

    def staging(self, name: str) -> Path:
        return self._staging / name.replace("/", "--")

    async def sweep_staging(self) -> int:
        return remove_files(self._staging)

    async def put(self, name: str, source: Path) -> None:
        target = self.root / name
        private_dir(target.parent)
        os.chmod(source, FILE_MODE)
        os.replace(source, target)  # same file system: atomic

    async def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    async def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    async def clear(self, kind: str) -> None:
        shutil.rmtree(self.root / kind, ignore_errors=True)
        private_dir(self.root / kind)

    async def response(self, request: Request, name: str) -> Response:
        path = self.root / name
        try:
            found = await anyio.to_thread.run_sync(os.stat, path)
        except FileNotFoundError:
            raise NoOperation(f"/files/{name}", "read the video again for a fresh URL") from None
        if not stat.S_ISREG(found.st_mode):
            raise NoOperation(f"/files/{name}")
        response = _EnvelopedFile(
            path,
            headers=_CACHE,
            media_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
            stat_result=found,
        )
        etag = response.headers["etag"]
        match = request.headers.get("if-none-match")
        if match and (match.strip() == "*" or etag in [t.strip() for t in match.split(",")]):
            kept = {
                k: v for k, v in response.headers.items() if k in ("etag", "last-modified", "cache-control")
            }
            return Response(status_code=304, headers=kept)
        return response


class _EnvelopedFile(FileResponse):
    """`FileResponse`, with its plain-text range errors (400, 416) answered in the API's envelope."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        replaced = False

        async def enveloped(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in (400, 416):
                replaced = True
                status = message["status"]
                reason = "Range not satisfiable" if status == 416 else "malformed Range header"
                code = ErrorCode.RANGE_NOT_SATISFIABLE if status == 416 else ErrorCode.INVALID_PARAMETER
                body = envelope_bytes(code, f"invalid parameter 'Range': {reason}")
                extra = [(k, v) for k, v in message["headers"] if k == b"content-range"]
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({**message, "headers": [*headers, *extra]})
                await send({"type": "http.response.body", "body": body})
                return
            if message["type"] == "http.response.body" and replaced:
                return  # FileResponse's plain-text body, already answered above
            await send(message)

        await super().__call__(scope, receive, enveloped)
