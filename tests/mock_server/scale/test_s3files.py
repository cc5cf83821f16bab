"""The S3 file store against moto's standalone S3 server: the FileStore protocol, objects streamed with
Range, and redirects to the store's own signed URLs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import botocore.config
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from a2v_spec import load_spec
from a2v_testkit import app_client
from a2v_testkit.backing_services import S3_KEYS
from mock_server.errors import ApiError, Errors
from mock_server.files.local import LocalFileStore
from mock_server.scale.s3 import S3FileStore, parse_s3_url
from tests.mock_server.test_files import RANGE_CASES, assert_range_answer

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from starlette.requests import Request
    from starlette.responses import Response

pytestmark = pytest.mark.anyio

BODY = bytes(range(256)) * 4000  # ~1 MB, several stream chunks


def _store(endpoint: str, bucket: str, tmp: Path, presign: bool = False) -> S3FileStore:
    config = botocore.config.Config(signature_version="s3" if presign else "s3v4")
    client = boto3.client("s3", endpoint_url=endpoint, config=config, **S3_KEYS)
    return S3FileStore(
        f"s3://{bucket}/tenant-a/run1",
        presign=presign,
        client=client,
        local=LocalFileStore(tmp / "files"),
        staging_dir=tmp / "staging",
    )


@pytest.fixture
def files(s3_endpoint: str, bucket: str, tmp_path: Path) -> S3FileStore:
    return _store(s3_endpoint, bucket, tmp_path)


@contextlib.contextmanager
def _client(files: S3FileStore) -> Iterator[httpx.Client]:
    errors = Errors(load_spec().errors)

    async def endpoint(request: Request) -> Response:
        return await files.response(request, request.path_params["name"])

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return errors.response(exc)

    app = Starlette(routes=[Route("/files/{name:path}", endpoint, methods=["GET", "HEAD"])])
    app.add_exception_handler(ApiError, on_error)
    with app_client(app) as client:
        yield client


@pytest.fixture
async def served(files: S3FileStore) -> AsyncIterator[httpx.Client]:
    source = files.staging("videos/v.mp4")
    source.write_bytes(BODY)
    await files.put("videos/v.mp4", source)
    with _client(files) as client:
        yield client


@pytest.mark.parametrize(("url", "expected"), [("s3://b/p/q/", ("b", "p/q")), ("s3://b", ("b", ""))])
def test_parse_s3_url(url: str, expected: tuple[str, str]) -> None:
    assert parse_s3_url(url) == expected


@pytest.mark.parametrize("url", ["http://b/p", "s3:///p", "/data"])
def test_parse_s3_url_refuses(url: str) -> None:
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        parse_s3_url(url)


async def test_the_file_store_protocol(files: S3FileStore) -> None:
    staged = files.staging("videos/x.mask.mp4")
    staged.write_bytes(b"abc")
    assert not await files.exists("videos/x.mask.mp4")
    await files.put("videos/x.mask.mp4", staged)
    assert not staged.exists()  # put takes the staged file
    staged.write_bytes(b"abc")
    await files.put("videos/x.mask.mp4", staged)  # rendered twice: still one object
    listed = files.client.list_objects_v2(Bucket=files.bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["tenant-a/run1/videos/x.mask.mp4"]
    head = files.client.head_object(Bucket=files.bucket, Key="tenant-a/run1/videos/x.mask.mp4")
    assert head["ContentType"] == "video/mp4"
    assert await files.exists("videos/x.mask.mp4")
    await files.delete("videos/x.mask.mp4")
    assert not await files.exists("videos/x.mask.mp4")
    staged.write_bytes(b"abc")
    await files.put("videos/y.mp4", staged)
    await files.clear("videos")
    assert "Contents" not in files.client.list_objects_v2(Bucket=files.bucket)
    preview = files.staging("previews/eva.png")
    preview.write_bytes(b"png")
    await files.put("previews/eva.png", preview)  # previews stay local to each replica
    assert await files.exists("previews/eva.png")
    assert "Contents" not in files.client.list_objects_v2(Bucket=files.bucket)
    files.ping()


#: A replica killed mid-render: it stages a partial file in the shared directory, then dies by SIGKILL.
_KILLED_MID_RENDER = """
import os, signal, sys
from pathlib import Path
from mock_server.scale.s3 import S3FileStore
files = S3FileStore("s3://b/p", client=object(), staging_dir=Path(sys.argv[1]))
partial = files.staging("videos/dead.mp4")
partial.write_bytes(b"partial")
print(partial, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


async def test_replicas_sharing_a_data_directory_never_sweep_a_live_ones_staging(tmp_path: Path) -> None:
    """Scaled out, replicas hold no data directory lock, and replicas started in one folder share
    `./a2v-data` (the test clusters do). A replica starting used to sweep all of `<data_dir>/tmp`,
    deleting the silence a live replica was rendering for a task forced to `finished` (500: `cannot read
    the audio: No such file or directory`). A start now sweeps its own staging and that of replicas
    that died, never a live replica's files."""
    shared = tmp_path / "tmp"  # <data_dir>/tmp
    live = S3FileStore(
        "s3://b/p", client=object(), local=LocalFileStore(tmp_path / "files"), staging_dir=shared
    )
    rendering = live.staging("videos/v.silence.wav")
    drawing = live.staging("previews/eva.png")
    for path in (rendering, drawing):
        path.write_bytes(b"being written")
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_RENDER, str(shared)], capture_output=True, text=True, timeout=60
    )
    left = Path(killed.stdout.strip())
    assert left.read_bytes() == b"partial", killed.stderr
    starting = S3FileStore("s3://b/p", client=object(), staging_dir=shared)
    assert await starting.sweep_staging() == 1  # the dead replica's partial file
    assert not left.exists()
    assert rendering.read_bytes() == drawing.read_bytes() == b"being written"  # the live replica's
    await live.put("previews/eva.png", drawing)  # a preview moves from its own staging to `local`
    assert await live.exists("previews/eva.png")
    assert len(list(shared.iterdir())) == 2  # one directory per live replica
    del live, starting  # a store that goes removes its own (a dead one's: the next start's sweep)
    assert list(shared.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content_type"), [("uploads/a.wav", "audio/wav"), ("uploads/b.m4a", "audio/mp4")]
)
async def test_an_uploaded_audio_file_is_stored_with_its_content_type(
    files: S3FileStore, name: str, content_type: str
) -> None:
    staged = files.staging(name)
    staged.write_bytes(b"RIFF")
    await files.put(name, staged)
    with _client(files) as client:
        assert client.get(f"/files/{name}").headers["content-type"] == content_type


async def test_an_object_streams_with_range(served: httpx.Client) -> None:
    client = served
    whole = client.get("/files/videos/v.mp4")
    assert (whole.status_code, whole.headers["content-type"], whole.content) == (200, "video/mp4", BODY)
    part = client.get("/files/videos/v.mp4", headers={"Range": "bytes=10-19"})
    assert (part.status_code, part.headers["content-range"], part.content) == (
        206,
        f"bytes 10-19/{len(BODY)}",
        BODY[10:20],
    )
    assert client.get("/files/videos/v.mp4", headers={"Range": "bytes=-5"}).content == BODY[-5:]
    outside = client.get("/files/videos/v.mp4", headers={"Range": f"bytes={len(BODY)}-"})
    assert (outside.status_code, outside.json()["code"]) == (416, 1015)
    assert (
        client.get("/files/videos/v.mp4", headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    )
    head = client.head("/files/videos/v.mp4")
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(BODY)))
    missing = client.get("/files/videos/missing.mp4")
    assert (missing.status_code, missing.json()["code"]) == (404, 1007)


@pytest.mark.parametrize(("header", "status", "content_range"), RANGE_CASES)
async def test_ranges_are_answered_as_the_local_store_answers_them(
    files: S3FileStore, header: str, status: int, content_range: str | None
) -> None:
    source = files.staging("videos/x.mp4")
    source.write_bytes(bytes(range(100)))
    await files.put("videos/x.mp4", source)
    with _client(files) as client:
        answer = client.get("/files/videos/x.mp4", headers={"Range": header})
    assert_range_answer(answer, status, content_range)


async def test_presigned_mode_redirects_to_the_stores_signed_url(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    files = _store(s3_endpoint, bucket, tmp_path, presign=True)
    staged = files.staging("videos/v.mp4")
    staged.write_bytes(b"video")
    await files.put("videos/v.mp4", staged)
    with _client(files) as client:
        answer = client.get("/files/videos/v.mp4")
    assert answer.status_code == 307
    query = httpx.URL(answer.headers["location"]).params
    assert int(query["Expires"]) > 0
    assert query["Signature"]
    assert httpx.get(answer.headers["location"]).content == b"video"
