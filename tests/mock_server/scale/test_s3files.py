"""The S3 file store against moto's standalone S3 server: uploads, signed URLs served by a replica with
Range, and the store's own presigned URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from a2v_spec import load_spec
from mock_server.errors import ApiError, Errors
from mock_server.files import Signer
from mock_server.s3files import S3Files, parse_s3_url
from mock_server.scaletesting import S3_ENV, S3_KEYS
from mock_server.testing import app_client

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from starlette.requests import Request
    from starlette.responses import Response

BODY = bytes(range(256)) * 4000  # ~1 MB, several stream chunks


@pytest.fixture
def files(s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch) -> S3Files:
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    return S3Files(f"s3://{bucket}/tenant-a/run1", endpoint_url=s3_endpoint)


@pytest.fixture
def served(files: S3Files, tmp_path: Path) -> Iterator[tuple[httpx.Client, Signer]]:
    source = tmp_path / "v.mp4"
    source.write_bytes(BODY)
    files.put("videos/v.mp4", source)
    signer = Signer("secret", 60)
    errors = Errors(load_spec().errors)

    async def endpoint(request: Request) -> Response:
        return await files.serve(request, request.path_params["name"], signer)

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return errors.response(exc)

    app = Starlette(routes=[Route("/files/{name:path}", endpoint, methods=["GET", "HEAD", "POST"])])
    app.add_exception_handler(ApiError, on_error)
    with app_client(app) as client:
        yield client, signer


@pytest.mark.parametrize(
    ("url", "expected"),
    [("s3://b/p/q/", ("b", "p/q")), ("s3://b", ("b", ""))],
)
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["http://b/p", "s3:///p", "/data"])
def test_parse_s3_url_refuses(url: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        parse_s3_url(url)


def test_upload_lands_under_the_prefix(files: S3Files, tmp_path: Path) -> None:
    source = tmp_path / "x.mask.mp4"
    source.write_bytes(b"abc")
    assert not files.exists("videos/x.mask.mp4")
    files.put("videos/x.mask.mp4", source)
    files.put("videos/x.mask.mp4", source)  # rendered twice: still one object
    listed = files.client.list_objects_v2(Bucket=files.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["tenant-a/run1/videos/x.mask.mp4"]
    head = files.client.head_object(Bucket=files.bucket, Key="tenant-a/run1/videos/x.mask.mp4")
    assert head["ContentType"] == "video/mp4"
    assert files.exists("videos/x.mask.mp4")
    files.delete(["videos/x.mask.mp4"])
    assert not files.exists("videos/x.mask.mp4")
    files.ping()


def test_signed_url_streams_the_object(served: tuple[httpx.Client, Signer]) -> None:
    client, signer = served
    url, _ = signer.url("http://testserver", "/files/videos/v.mp4")
    whole = client.get(url)
    assert (whole.status_code, whole.headers["content-type"], whole.content) == (200, "video/mp4", BODY)
    part = client.get(url, headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.headers["content-range"], part.content) == (
        206,
        f"bytes 10-19/{len(BODY)}",
        BODY[10:20],
    )
    tail = client.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == BODY[-5:]
    assert client.get(url, headers={"Range": f"bytes={len(BODY)}-"}).status_code == 416
    assert client.get(url, headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    head = client.head(url)
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(BODY)))


@pytest.mark.parametrize(
    ("path", "tamper", "status", "code"),
    [
        ("/files/videos/v.mp4", True, 403, 1012),
        ("/files/videos/missing.mp4", False, 404, 1007),
        ("/files/other/v.mp4", False, 404, 1007),
    ],
)
def test_refusals(
    served: tuple[httpx.Client, Signer], path: str, tamper: bool, status: int, code: int
) -> None:
    client, signer = served
    url, _ = signer.url("http://testserver", path)
    if tamper:
        url = url.replace("Signature=", "Signature=x")
    response = client.get(url)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_presigned_urls_carry_expires_and_signature(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    import boto3
    import botocore.config

    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, config=botocore.config.Config(signature_version="s3"), **S3_KEYS
    )
    files = S3Files(f"s3://{bucket}/p", presign=True, client=client)
    source = tmp_path / "v.mp4"
    source.write_bytes(b"video")
    files.put("videos/v.mp4", source)
    url, expires = files.presigned_url("videos/v.mp4", 120)
    query = httpx.URL(url).params
    assert query["Expires"] == str(expires)
    assert query["Signature"]
    assert httpx.get(url).content == b"video"
