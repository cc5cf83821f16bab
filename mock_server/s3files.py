"""Result files in an S3-compatible object store (`--files s3://bucket/prefix`).

Render workers upload each video and mask to `<prefix>/videos/<name>`; any API replica serves them. Two
ways to hand out URLs, chosen by the `presign` setting:

- served (default): the URL is the mock's own `/files/...?Expires=&Signature=` signed with the shared
  secret, so every replica checks it; the replica streams the object from the store, passing `Range`
  on as a ranged GET (206/416 and `If-None-Match` as for local files), never holding a whole video;
- presigned: the store's own query-string signed URL (`AWSAccessKeyId`, `Expires`, `Signature`: the
  S3 query-auth form whose `Expires` and `Signature` parameters the spec's URLs carry), so downloads
  never touch the API. The store, not the mock, then judges expiry and tampering.

boto3 clients are thread-safe and blocking; the API calls them on worker threads.

Example::

    files = S3Files("s3://a2v-results/sandbox", endpoint_url="http://127.0.0.1:9000")
    files.put("videos/x.mp4", Path("/tmp/x.mp4"))
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import boto3
import botocore.config
import botocore.exceptions
from starlette.responses import Response, StreamingResponse

from mock_server.errors import ApiError
from mock_server.files import _NAME, _TYPES, _parse_range

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from starlette.requests import Request

    from mock_server.files import FileServer, Signer

__all__ = ["S3FileServer", "S3Files", "parse_s3_url"]

#: Bytes per read when streaming an object to a client.
_CHUNK = 256 * 1024


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix"); refuses anything else, naming it."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"files must be a directory or s3://bucket/prefix, got {url!r}")
    return parts.netloc, parts.path.strip("/")


class S3Files:
    """Objects `<prefix>/<kind>/<name>` in one bucket."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        presign: bool = False,
        region: str | None = None,
        client: Any = None,
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

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    # --- blocking calls (workers, or the API on a thread) ---
    def put(self, name: str, source: Path) -> None:
        """Upload a finished file; the same name twice leaves one object (the last, identical, upload)."""
        suffix = "." + name.rsplit(".", 1)[-1]
        self.client.upload_file(
            str(source),
            self.bucket,
            self.key(name),
            ExtraArgs={"ContentType": _TYPES.get(suffix, "application/octet-stream")},
        )
        self.uploads += 1

    def exists(self, name: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except botocore.exceptions.ClientError as err:
            if _status(err) == 404:
                return False
            raise
        return True

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):
            batch = [{"Key": self.key(n)} for n in names[start : start + 1000]]
            if batch:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

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

    # --- serving signed `/files/...` URLs from any replica ---
    async def serve(self, request: Request, name: str, signer: Signer) -> Response:
        if request.method not in ("GET", "HEAD"):
            raise ApiError(1006, f"method {request.method} is not allowed on /files; use GET or HEAD")
        match = _NAME.match(name)
        if not match or ".." in name:
            raise ApiError(1007, f"no file /files/{name}")
        signer.verify(
            f"/files/{name}", request.query_params.get("Expires"), request.query_params.get("Signature")
        )
        try:
            head = await anyio.to_thread.run_sync(
                lambda: self.client.head_object(Bucket=self.bucket, Key=self.key(name))
            )
        except botocore.exceptions.ClientError as err:
            if _status(err) == 404:
                raise ApiError(1007, f"no file /files/{name}") from None
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


class S3FileServer:
    """The `FileServer` interface over an object store: videos from the store, previews (drawn by each
    replica on first request, identical everywhere) from the replica's local directory."""

    def __init__(self, files: S3Files, signer: Signer, local: FileServer) -> None:
        self.files = files
        self.signer = signer
        self.local = local

    def disk_path(self, name: str) -> Path:
        return self.local.disk_path(name)

    async def serve(self, request: Request, name: str) -> Response:
        if name.startswith("videos/"):
            return await self.files.serve(request, name, self.signer)
        return await self.local.serve(request, name)
