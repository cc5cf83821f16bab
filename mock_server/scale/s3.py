"""The `FileStore` on an S3-compatible object store (`--files s3://bucket/prefix`).

Render workers `put` each video and mask to `<prefix>/videos/<name>`; any API replica answers the
mock's signed `/files/...` URLs (the signature, shared by every replica, is checked before `response`).
Two ways to answer, chosen by the `presign_urls` setting:

- streamed (default): the replica reads the object and streams it, passing `Range` on as a ranged GET
  (206 / 416, `If-None-Match` 304, as for local files), never holding a whole video in memory;
- presigned: a `307` to the store's own query-signed URL (`AWSAccessKeyId`, `Expires`, `Signature`:
  S3's query-auth form), so the bytes never pass through the API; expiry and tampering of the mock's
  URL are still judged by the mock, and the redirect's own URL by the store.

boto3 clients are thread-safe and blocking: the coroutines run them on worker threads.

Example::

    files = S3FileStore("s3://a2v-results/sandbox", endpoint_url="http://127.0.0.1:9000")
    await files.put("videos/x.mp4", Path("/tmp/x.mp4"))
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import boto3
import botocore.config
import botocore.exceptions
from starlette.responses import Response, StreamingResponse

from a2v_spec import ErrorCode
from mock_server.errors import NoOperation, envelope_bytes
from mock_server.files.local import ProcessStaging
from mock_server.files.protocol import CONTENT_TYPES

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request

    from mock_server.files.protocol import FileStore


__all__ = ["S3FileStore", "parse_s3_url"]

#: Bytes per read when streaming an object to a client.
_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); refuses anything else, naming it."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"files must be a directory or s3://bucket/prefix, got {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3FileStore:
    """The `FileStore` on an S3 bucket: objects `<prefix>/<kind>/<name>`; previews stay local.

    Character previews are drawn by each replica on first request and are identical everywhere, so
    they live in `local` (the embedded directory store) rather than making a round trip to the bucket.
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        presign: bool = False,
        region: str | None = None,
        client: Any = None,
        local: FileStore | None = None,
        staging_dir: Path | None = None,
        url_ttl: int = 3600,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = url
        self.presign = presign
        # Query-string auth of the "s3" (SigV2) form gives `Expires` and `Signature` parameters.
        config = botocore.config.Config(
            signature_version="s3" if presign else "s3v4",
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=32,
        )
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
        self.uploads = 0  # objects written by this process (the benchmark's per-task cost)
        self.local = local
        self.url_ttl = url_ttl
        #: Where this process stages, a directory of its own in `staging_dir`: replicas share none of
        #: their data directory's locks, so several may stage under one `<data_dir>/tmp`.
        self._staging = ProcessStaging(staging_dir or Path(tempfile.mkdtemp(prefix="a2v-staging-")))

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    # --- the FileStore protocol ---
    def staging(self, name: str) -> Path:
        """In this process's own staging directory, previews too (`put` moves them to `local`, which is
        in the same data directory): another replica's start never sweeps it, nor draws into it."""
        return self._staging.path / name.replace("/", "--")

    async def sweep_staging(self) -> int:
        """What this process left, and what replicas that died left; never a live replica's files."""
        return self._staging.sweep()

    async def put(self, name: str, source: Path) -> None:
        if self.local is not None and name.startswith("previews/"):
            await self.local.put(name, source)
            return
        await anyio.to_thread.run_sync(self.upload, name, source)
        source.unlink(missing_ok=True)

    async def exists(self, name: str) -> bool:
        if self.local is not None and name.startswith("previews/"):
            return await self.local.exists(name)
        return await anyio.to_thread.run_sync(self.exists_now, name)

    async def delete(self, name: str) -> None:
        if self.local is not None and name.startswith("previews/"):
            await self.local.delete(name)
            return
        await anyio.to_thread.run_sync(self.delete_now, [name])

    async def clear(self, kind: str) -> None:
        if self.local is not None and kind == "previews":
            await self.local.clear(kind)
            return
        await anyio.to_thread.run_sync(self.clear_now, kind)

    async def response(self, request: Request, name: str) -> Response:
        """Stream the object (Range, If-None-Match), or with `presign` redirect to the store's own signed
        URL; the mock's signature was checked by the caller."""
        if self.local is not None and name.startswith("previews/"):
            return await self.local.response(request, name)
        if self.presign:
            url, _ = await anyio.to_thread.run_sync(self.presigned_url, name, self.url_ttl)
            return Response(status_code=307, headers={"Location": url, "Cache-Control": "no-store"})
        return await self._stream_response(request, name)

    # --- blocking calls (workers, or the API on a thread) ---
    def upload(self, name: str, source: Path) -> None:
        """Upload a finished file; the same name twice leaves one object (the last, identical, upload)."""
        suffix = "." + name.rsplit(".", 1)[-1]
        self.client.upload_file(
            str(source),
            self.bucket,
            self.key(name),
            ExtraArgs={"ContentType": CONTENT_TYPES.get(suffix, "application/octet-stream")},
        )
        self.uploads += 1

    def exists_now(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except botocore.exceptions.ClientError as err:
            if _status(err) == 404:
                return False
            raise
        return True

    def delete_now(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):
            batch = [{"Key": self.key(n)} for n in names[start : start + 1000]]
            if batch:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def clear_now(self, kind: str) -> None:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.key(f"{kind}/")):
            self.delete_now([item["Key"][len(self.key("")) :] for item in page.get("Contents", [])])

    def ping(self) -> None:
        """Raise unless the bucket answers (for `/readyz`)."""
        self.client.head_bucket(Bucket=self.bucket)

    def presigned_url(self, name: str, ttl: int, now: float | None = None) -> tuple[str, int]:
        """The store's own signed URL of `name`, and when it expires."""
        expires = int(now if now is not None else time.time()) + ttl
        url = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self.key(name)}, ExpiresIn=ttl
        )
        return str(url), expires

    async def _stream_response(self, request: Request, name: str) -> Response:
        try:
            head = await anyio.to_thread.run_sync(
                lambda: self.client.head_object(Bucket=self.bucket, Key=self.key(name))
            )
        except botocore.exceptions.ClientError as err:
            if _status(err) == 404:
                raise NoOperation(f"/files/{name}", "read the video again for a fresh URL") from None
            raise
        size = int(head["ContentLength"])
        etag = str(head.get("ETag") or f'"{size:x}"')
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Cache-Control": "private, max-age=60",
            "Content-Type": str(head.get("ContentType") or "application/octet-stream"),
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
            if parsed == 416:
                headers["Content-Range"] = f"bytes */{size}"
                body = envelope_bytes(
                    ErrorCode.RANGE_NOT_SATISFIABLE, "invalid parameter 'Range': Range not satisfiable"
                )
                return Response(body, 416, headers={**headers, "Content-Type": "application/json"})
            if isinstance(parsed, int):
                body = envelope_bytes(
                    ErrorCode.INVALID_PARAMETER, "invalid parameter 'Range': malformed Range header"
                )
                return Response(body, 400, headers={"Content-Type": "application/json"})
            start, end, status = parsed[0], parsed[1], 206
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        length = max(0, end - start + 1)
        headers["Content-Length"] = str(length)
        if request.method == "HEAD" or length == 0:
            return Response(status_code=status, headers=headers)
        return StreamingResponse(self._stream(name, start, end), status_code=status, headers=headers)

    async def _stream(self, name: str, start: int, end: int) -> AsyncIterator[bytes]:
        got = await anyio.to_thread.run_sync(
            lambda: self.client.get_object(
                Bucket=self.bucket, Key=self.key(name), Range=f"bytes={start}-{end}"
            )
        )
        body = got["Body"]
        try:
            while chunk := await anyio.to_thread.run_sync(body.read, _CHUNK):
                yield chunk
        finally:
            body.close()


def _status(err: botocore.exceptions.ClientError) -> int:
    return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _parse_range(header: str, size: int) -> tuple[int, int] | int:
    """(start, end) inclusive of the first `bytes=` range, or the status of its refusal as the local
    store's `FileResponse` gives it: 400 for a malformed header, 416 for a range past the object."""
    match = _RANGE.match(header.split(",")[0].strip())
    if not match or (not match.group(1) and not match.group(2)):
        return 400
    first, last = match.group(1), match.group(2)
    if first and last and int(last) < int(first):
        return 400
    if size == 0:
        return 416
    if not first:
        suffix = int(last)
        return 416 if suffix == 0 else (max(0, size - suffix), size - 1)
    start = int(first)
    if start >= size:
        return 416
    return start, min(int(last) if last else size - 1, size - 1)
