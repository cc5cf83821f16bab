"""The embedded file store: a directory, `<data_dir>/files`, served with Starlette's `FileResponse`.

`FileResponse` answers `Range` (206, multipart for several ranges, 416 outside the file), `If-Range`,
`ETag`, `Last-Modified` and HEAD, and streams in 64 KiB chunks; this module adds only `If-None-Match`
(304, which Starlette does in `StaticFiles` but not in `FileResponse`) and our envelope for the two
errors `FileResponse` answers in plain text (416, and 400 for a malformed `Range`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from starlette.responses import FileResponse, Response

from a2v_spec import ErrorCode
from mock_server.errors import NoOperation, envelope_bytes
from mock_server.files.permissions import FILE_MODE, private_dir
from mock_server.files.protocol import CONTENT_TYPES

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Message, Receive, Scope, Send

__all__ = ["LocalFileStore", "ProcessStaging", "remove_files"]

_CACHE = {"Cache-Control": "private, max-age=60"}


def remove_files(directory: Path, keep: str | None = None) -> int:
    """Remove the files left in a staging directory (a render that died mid-way), all but the one named
    `keep`; returns how many."""
    removed = 0
    for leftover in directory.iterdir():
        if leftover.is_file() and leftover.name != keep:
            leftover.unlink(missing_ok=True)
            removed += 1
    return removed


#: In a process's own staging directory: the file it holds an exclusive `flock` on while it lives.
_OWNER = ".owner"
_OWN_PREFIX = "proc-"


class ProcessStaging:
    """This process's own staging directory in `root`, a directory other live processes may share.

    One embedded server sweeps its staging directory at start safely: the data directory lock keeps
    every other server out. Scaled out there is no such lock (replicas share the store, queue and
    bucket), and replicas started in one folder share the default `./a2v-data`: a replica starting
    swept `<data_dir>/tmp` under the others, deleting the files a live replica was writing or rendering
    from (its placeholder render for a task forced to `finished` failed with `cannot read the audio: No
    such file or directory`). So each process stages in `root/proc-<pid>-<random>/`, on whose `.owner`
    file it holds an exclusive `flock` for as long as it lives (the kernel drops it however the process
    dies), and `sweep()` empties its own directory and removes only those whose owner is gone.
    """

    def __init__(self, root: Path) -> None:
        self.root = private_dir(root)
        self.path = Path(tempfile.mkdtemp(prefix=f"{_OWN_PREFIX}{os.getpid()}-", dir=root))  # 0700
        # Locked before it takes its name: a sweeper that finds `.owner` unlocked knows its owner died.
        claim = self.path / f"{_OWNER}-{os.getpid()}"
        fd = os.open(claim, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.replace(claim, self.path / _OWNER)
        # Removed when the store is collected or the interpreter exits normally; a process killed (or
        # that dies by its signal, as uvicorn re-raises SIGTERM) leaves it to the next start's sweep.
        weakref.finalize(self, _release_staging, self.path, fd, os.getpid())

    def sweep(self) -> int:
        """Remove what this process left in its directory and the directories of processes that died
        (partial downloads and renders); returns how many files went. A live process's are kept."""
        removed = remove_files(self.path, keep=_OWNER)
        for other in self.root.iterdir():
            if other != self.path and other.name.startswith(_OWN_PREFIX) and other.is_dir():
                removed += _remove_abandoned(other)
        return removed


def _remove_abandoned(directory: Path) -> int:
    """Remove `directory` if its owner is dead (its `.owner` lock is free); how many files went."""
    try:
        fd = os.open(directory / _OWNER, os.O_RDONLY)
    except OSError:  # not claimed yet (being made), or already removed by another sweeper
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # its owner lives
        files = remove_files(directory, keep=_OWNER)
        shutil.rmtree(directory, ignore_errors=True)
        return files
    finally:
        os.close(fd)


def _release_staging(path: Path, fd: int, owner: int) -> None:
    if os.getpid() != owner:  # a forked child shares the lock; only the process that made it removes it
        return
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(fd)


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
