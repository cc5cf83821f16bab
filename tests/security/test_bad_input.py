"""Bad input gets a catalog error, never a 500: hostile headers, URLs, media and file URLs."""

from __future__ import annotations

import io
import os
import stat
import struct
import wave
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.security.conftest import client_for, submit, wait_for

if TYPE_CHECKING:
    from mock_server.testing import RunningServer
    from tests.security.conftest import HostileHost


@pytest.fixture(scope="module")
def mock() -> object:
    from mock_server.testing import run_server
    from tests.security.conftest import BASE

    with run_server(**BASE, test_mode=True) as server:
        yield server


def _finished(server: RunningServer, hostile: HostileHost) -> dict[str, object]:
    with client_for(server, "bad-input") as client:
        return wait_for(client, submit(client, hostile.url("/ok.wav")))


def _raw_get(server: RunningServer, target: str, headers: dict[str, bytes] | None = None) -> httpx.Response:
    """A GET whose headers may hold any bytes (httpx refuses non-ASCII str headers)."""
    raw = [(k.encode(), v) for k, v in (headers or {}).items()]
    with httpx.Client(timeout=10) as client:
        request = client.build_request("GET", server.base_url + target)
        request.headers = httpx.Headers([*request.headers.raw, *raw])
        return client.send(request)


def test_non_ascii_signature_is_403_1012(mock: RunningServer) -> None:
    response = _raw_get(mock, "/files/previews/eva_a0008.png?Expires=99999999999&Signature=%C3%A9t%C3%A9")
    assert response.status_code == 403
    assert response.json()["code"] == 1012


@pytest.mark.parametrize("expires", ["0{e}", "+{e}", "{e_}", " {e}", "{e}.0", "٣{e}"])
def test_expires_must_be_canonical_digits(mock: RunningServer, hostile: HostileHost, expires: str) -> None:
    video = _finished(mock, hostile)
    url = httpx.URL(str(video["video_url"]))
    e = url.params["Expires"]
    forged = expires.format(e=e, e_=f"{e[0]}_{e[1:]}")
    response = httpx.get(url.copy_set_param("Expires", forged), timeout=10)
    assert response.status_code == 403, forged
    assert response.json()["code"] == 1012


@pytest.mark.parametrize(
    ("range_header", "statuses"),
    [
        ("bytes=-" + "9" * 5000, (206, 400)),  # a suffix longer than the file is the whole file (RFC 9110)
        ("bytes=" + "9" * 5000 + "-", (400, 416)),
        ("bytes=99999999-", (416,)),
        ("bytes=0-1", (206,)),
    ],
)
def test_range_headers_never_500(
    mock: RunningServer, hostile: HostileHost, range_header: str, statuses: tuple[int, ...]
) -> None:
    video = _finished(mock, hostile)
    response = httpx.get(str(video["video_url"]), headers={"Range": range_header}, timeout=10)
    assert response.status_code in statuses
    if response.status_code == 416:
        assert response.json()["code"] == 1015
        assert response.headers["content-range"].startswith("bytes */")
    elif response.status_code == 400:
        assert response.json()["code"] == 1003


def test_the_catalog_has_a_row_for_416() -> None:
    from a2v_spec import ErrorCode, load_spec

    assert load_spec().errors[ErrorCode.RANGE_NOT_SATISFIABLE].http_status == 416


@pytest.mark.parametrize(
    "audio_url",
    [
        "http://audio.test/a.wav\n",
        "http://audio.test/a\x00.wav",
        "http://audio.test/\ud800.wav",
        "http://a\ud800/x",
    ],
)
@pytest.mark.parametrize("field", ["audio_url", "callback_url"])
def test_hostile_urls_are_400_1003(mock: RunningServer, audio_url: str, field: str) -> None:
    body = {"model_id": "eva_a0008", "audio_url": "http://audio.test/a.wav", field: audio_url}
    import json

    raw = json.dumps(body).encode()  # lone surrogates leave as \ud800 escapes, as a hostile client sends
    with client_for(mock) as client:
        response = client.post(
            "/v1/a2v/video.generate", content=raw, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1003


def _wav_header(channels: int, rate: int, frames: int = 16000) -> bytes:
    data = b"\0\0" * channels * frames
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * channels * 2 & 0xFFFFFFFF, channels * 2, 16)
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("64ch.wav", _wav_header(64, 16000, 2000)),
        ("huge-rate.wav", _wav_header(1, 2**31 - 1, 16000)),
        ("zero-rate.wav", _wav_header(1, 0, 16000)),
    ],
)
def test_hostile_media_ends_10003(mock: RunningServer, hostile: HostileHost, name: str, data: bytes) -> None:
    url = hostile.add(f"/media/{name}", data, "audio/wav")
    with client_for(mock) as client:
        video = wait_for(client, submit(client, url))
    assert video["error"]["code"] == 10003, video["error"]


def test_an_unsigned_preview_is_refused_before_it_is_rendered(mock: RunningServer) -> None:
    previews = mock.settings.data_dir / "files" / "previews"
    before = set(os.listdir(previews)) if previews.exists() else set()
    response = httpx.get(f"{mock.base_url}/files/previews/eva_a0008.png", timeout=10)
    assert response.status_code == 403
    after = set(os.listdir(previews)) if previews.exists() else set()
    assert after == before


def test_messages_carry_no_server_path_or_errno(mock: RunningServer, hostile: HostileHost) -> None:
    url = hostile.add("/media/not-audio.wav", b"RIFF\0\0\0\0WAVEjunk" * 50, "audio/wav")
    with client_for(mock) as client:
        video = wait_for(client, submit(client, url))
        closed = wait_for(client, submit(client, "http://127.0.0.1:1/a.wav"))
    tasks = httpx.get(f"{mock.base_url}/__admin/tasks", timeout=10).text
    for text in (str(video["error"]), str(closed["error"]), tasks):
        assert str(mock.settings.data_dir) not in text
        assert "/tmp" not in text
        assert "Errno" not in text


def test_data_files_are_private(mock: RunningServer, hostile: HostileHost) -> None:
    _finished(mock, hostile)
    root = mock.settings.data_dir
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path.relative_to(root)} is {oct(mode)}"


def test_wav_helper_is_a_wav() -> None:
    with wave.open(io.BytesIO(_wav_header(2, 8000, 10))) as handle:
        assert handle.getnchannels() == 2
