"""Memory stays bounded whatever a client sends: headers, made-up tokens, long URLs, gzip bombs, admin
bodies. (Peak and settled RSS under each attack are measured by `benchmarks/abuse.py`.)"""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import ErrorCode
from mock_server.errors import TaskFailure
from mock_server.ratelimit import RateLimiter
from mock_server.scenario_values import RateLimit
from mock_server.tasks.audio_fetch import bounded_body
from tests.security.conftest import client_for, submit, wait_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.testing import RunningServer
    from tests.security.conftest import HostileHost


@pytest.mark.parametrize("path", ["/v1/a2v/video.list", "/v1/ping", "/__admin/requests", "/files/x.mp4"])
def test_header_fields_over_the_limit_are_431_1016(serve: Callable[..., RunningServer], path: str) -> None:
    server = serve()
    token = "t" * 40_000
    response = httpx.get(server.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 431
    assert response.json()["code"] == 1016
    assert server.mock.journal.query(status=431) == []  # refused before anything recorded it


def test_made_up_tokens_leave_no_state_and_share_one_window(serve: Callable[..., RunningServer]) -> None:
    server = serve(api_keys=["real-key"], rate_limit={"requests": 20, "per_seconds": 60})
    statuses = []
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for index in range(40):
            token = f"{index:04d}" + "x" * 8000
            response = client.get("/v1/a2v/video.list", headers={"Authorization": f"Bearer {token}"})
            statuses.append((response.status_code, response.json()["code"]))
    assert statuses[:20] == [(401, 1001)] * 20
    assert statuses[20:] == [(429, 1009)] * 20  # limited by client address, not by token
    mock = server.mock
    assert len(mock.limiter) == 1
    assert mock.auth._issued == {}
    assert {entry["tenant"] for entry in mock.journal.query(path="/v1/a2v/video.list")} == {None}


def test_the_limiter_table_is_pruned() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(requests=5, per_seconds=10), clock=lambda: now[0], max_windows=100)
    for index in range(10_000):
        now[0] = index / 100
        limiter.hit(f"client-{index}")
        assert len(limiter) <= 100
    assert limiter.hit("client-9999").left == 3  # the newest windows are kept


def test_journal_entries_keep_a_bounded_query(serve: Callable[..., RunningServer]) -> None:
    server = serve(limits={"max_header_bytes": 65536})
    with client_for(server) as client:
        client.get("/v1/a2v/video.list", params={"x": "q" * 30_000})
    (entry,) = server.mock.journal.query(path="/v1/a2v/video.list")
    assert len(entry["query"]) <= 2048


def _collect(raw: bytes, encoding: str, limit: int) -> list[bytes]:
    async def run() -> list[bytes]:
        stream = httpx.ByteStream(raw)
        response = httpx.Response(200, headers={"content-encoding": encoding}, stream=stream)
        return [block async for block in bounded_body(response, limit)]

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress)],
)
def test_compressed_bodies_inflate_in_bounded_steps(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(b"\0" * (32 << 20))
    with pytest.raises(TaskFailure) as caught:
        _collect(bomb, encoding, limit=1 << 20)
    assert caught.value.code == ErrorCode.AUDIO_TOO_LARGE
    small = _collect(compress(b"abc" * 100_000), encoding, limit=1 << 20)
    assert b"".join(small) == b"abc" * 100_000
    assert max(len(block) for block in small) <= 65536


def test_a_gzip_bomb_ends_10005(serve: Callable[..., RunningServer], hostile: HostileHost) -> None:
    server = serve()
    with client_for(server) as client:
        video = wait_for(client, submit(client, hostile.url("/gzip-bomb")))
    assert video["error"]["code"] == 10005


def test_huge_streamed_audio_ends_10005(serve: Callable[..., RunningServer], hostile: HostileHost) -> None:
    server = serve()
    with client_for(server) as client:
        video = wait_for(client, submit(client, hostile.url("/huge")))
    assert video["error"]["code"] == 10005


def _chunks(total: int, size: int = 65536) -> Any:
    for _ in range(total // size):
        yield b" " * size


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (lambda: _chunks(8 << 20), 413, 1013),  # streamed, no Content-Length: cut at the limit
        (lambda: b" " * 200_000, 413, 1013),
        (lambda: b"   \n ", 400, 1004),  # whitespace is not `{}`
        (lambda: b"[" * 20_000 + b"]" * 20_000, 400, 1004),  # nesting too deep
        (lambda: b'{"tenant": ' * 5000 + b"1" + b"}" * 5000, 400, 1004),
    ],
)
def test_admin_bodies_are_read_like_api_bodies(
    serve: Callable[..., RunningServer],
    hostile: HostileHost,
    content: Callable[[], Any],
    status: int,
    code: int,
) -> None:
    server = serve()
    with client_for(server) as victim:
        kept = wait_for(victim, submit(victim, hostile.url("/ok.wav")))
        response = httpx.post(f"{server.base_url}/__admin/reset", content=content(), timeout=30)
        assert (response.status_code, response.json()["code"]) == (status, code)
        again = victim.get("/v1/a2v/video.get", params={"video_id": kept["video_id"]})
        assert again.json()["data"]["status"] == "finished"  # nothing was reset


def test_the_app_layer_refuses_large_heads_behind_any_server(tmp_path: Any) -> None:
    from a2v_testkit import app_client
    from mock_server.config import Settings
    from mock_server.runtime.app import create_app

    app = create_app(Settings(data_dir=tmp_path, prewarm=False, render_workers=1))
    with app_client(app) as client:
        response = client.get("/v1/a2v/video.list", headers={"Authorization": "Bearer " + "t" * 20_000})
    assert (response.status_code, response.json()["code"]) == (431, 1016)


def test_an_upload_is_streamed_to_staging_and_refused_at_the_limit(tmp_path: Any) -> None:
    """The body arrives through `receive` one chunk at a time (httpx's ASGI transport pulls the
    generator only as the app reads): the mock must stop reading just past the limit, and the staging
    file must never hold more than the limit."""
    from mock_server.config import Settings
    from mock_server.runtime.app import create_app
    from mock_server.testing import lifespan

    limit, chunk, total = 1_000_000, 65536, 64 << 20
    app = create_app(
        Settings(data_dir=tmp_path, prewarm=False, render_workers=1, limits={"max_audio_bytes": limit})
    )
    staging = app.state.mock.files.staging("uploads/x").parent
    sent, largest = [0], [0]

    async def body() -> Any:
        while sent[0] < total:
            largest[0] = max([largest[0], *(f.stat().st_size for f in staging.glob("uploads--*"))])
            sent[0] += chunk
            yield b"\0" * chunk

    async def run() -> httpx.Response:
        async with lifespan(app):
            transport = httpx.ASGITransport(app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
                return await client.post("/__admin/uploads", params={"name": "big.wav"}, content=body())

    response = asyncio.run(run())
    assert (response.status_code, response.json()["code"]) == (413, 1013)
    assert str(limit) in response.json()["message"]
    assert sent[0] <= limit + 2 * chunk  # refused as the limit was crossed, not after reading it all
    assert 0 < largest[0] <= limit
    assert list(staging.glob("uploads--*")) == []  # the partial upload is removed


def _signer_bytes(signer: Any) -> int:
    """Bytes of paths the URL signer's cache holds, counted from its entries (any version of it)."""
    return sum(len(path) for path, _ in signer._cache)


def test_made_up_file_urls_leave_nothing_in_the_signature_cache(serve: Callable[..., RunningServer]) -> None:
    server = serve(limits={"max_header_bytes": 65536})
    signer = server.mock.signer
    before = _signer_bytes(signer)
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for index in range(600):
            name = f"videos/{index:05d}{'n' * 16_000}.mp4"  # a caller-chosen path, 16 KB each
            answer = client.get(
                f"/files/{name}", params={"Expires": str(4_000_000_000 + index), "Signature": "x"}
            )
            assert (answer.status_code, answer.json()["code"]) == (403, 1012)
    assert _signer_bytes(signer) - before <= 64 * 1024  # was 9.6 MB: every refused path was kept


def test_the_signature_cache_is_bounded_in_bytes_for_the_servers_own_urls() -> None:
    from mock_server.files.signing import CACHE_BYTES, Signer

    signer = Signer("secret", ttl=600)
    for index in range(3000):
        url, expires = signer.url(
            "http://mock", f"/files/videos/{index:05d}{'v' * 1000}.mp4", now=2_000_000_000 + index
        )
        path, query = url.removeprefix("http://mock").split("?")
        signature = query.split("Signature=")[1]
        signer.verify(path, str(expires), signature)  # its own URLs still verify
        assert signer.cache_bytes <= CACHE_BYTES
    assert _signer_bytes(signer) <= CACHE_BYTES


def test_open_mode_tokens_are_cached_by_digest_not_by_their_bytes(
    serve: Callable[..., RunningServer],
) -> None:
    server = serve()
    auth = server.mock.auth
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        for index in range(300):
            token = f"{index:04d}" + "t" * 15_000  # 15 KB each, all accepted in open mode
            answer = client.get("/v1/a2v/video.list", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200
    held = sum(len(key) + len(value or "") for key, value in auth._plain.items())
    assert len(auth._plain) == 300
    assert held <= 300 * 64  # was 4.5 MB: each token kept whole
