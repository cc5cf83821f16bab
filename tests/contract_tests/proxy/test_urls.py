"""File URLs: rewritten to pass through the proxy and mapped back; what was handed out is remembered."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.proxy.urls import FileUrls

UPSTREAM = "http://127.0.0.1:8000"
PROXY = "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("upstream", "url", "proxied", "target"),
    [
        (
            UPSTREAM,
            f"{UPSTREAM}/files/videos/a.mp4?Expires=9&Signature=s",
            f"{PROXY}/files/videos/a.mp4?Expires=9&Signature=s",
            f"{UPSTREAM}/files/videos/a.mp4?Expires=9&Signature=s",
        ),
        (
            "https://api.example/base",
            "https://cdn.example:9443/bucket/a.mp4?X=1",
            f"{PROXY}/__a2v_proxy/1/bucket/a.mp4?X=1",
            "https://cdn.example:9443/bucket/a.mp4?X=1",
        ),
        (
            "https://api.example/base",
            "https://api.example/base/files/a.mp4",
            f"{PROXY}/files/a.mp4",
            "https://api.example/base/files/a.mp4",
        ),
    ],
)
def test_round_trip(upstream: str, url: str, proxied: str, target: str) -> None:
    urls = FileUrls(upstream)
    assert urls.proxied(url, PROXY) == proxied
    path, _, query = proxied[len(PROXY) :].partition("?")
    assert urls.target(path, query) == target


def test_only_origins_seen_in_answers_are_forwarded_to() -> None:
    urls = FileUrls(UPSTREAM)
    assert urls.target("/__a2v_proxy/1/x", "") is None
    assert urls.target("/__a2v_proxy/zero/x", "") is None
    assert urls.target("/v1/ping", "") == f"{UPSTREAM}/v1/ping"


def test_rewrite_remembers_each_url_with_its_expiry() -> None:
    urls = FileUrls(UPSTREAM)
    video = f"{UPSTREAM}/files/videos/v.mp4?Expires=100&Signature=good"
    body: dict[str, Any] = {
        "code": 0,
        "data": {
            "video_id": "v",
            "video_url": video,
            "audio_url": "http://elsewhere/a.wav",
            "url_expires_at": 90,
        },
    }
    assert urls.rewrite(body, PROXY, "tenant-1")
    assert body["data"]["video_url"] == f"{PROXY}/files/videos/v.mp4?Expires=100&Signature=good"
    assert body["data"]["audio_url"] == "http://elsewhere/a.wav"  # not a file the service serves
    known, handed = urls.lookup(video)
    assert known
    assert handed is not None
    assert (handed.kind, handed.expires_at, handed.video_id, handed.tenant) == (
        "video_url",
        90,
        "v",
        "tenant-1",
    )
    assert urls.lookup(video.replace("good", "bad")) == (True, None)  # an altered URL
    assert urls.lookup(f"{UPSTREAM}/files/videos/other.mp4") == (False, None)  # never handed out


def test_previews_in_a_character_list_expire_by_their_query() -> None:
    urls = FileUrls(UPSTREAM)
    preview = f"{UPSTREAM}/files/previews/eva.png?Expires=1234&Signature=x"
    body: dict[str, Any] = {"code": 0, "data": [{"model_id": "eva", "preview_url": preview}]}
    urls.rewrite(body, PROXY, None)
    assert body["data"][0]["preview_url"].startswith(PROXY)
    handed = urls.lookup(preview)[1]
    assert handed is not None
    assert handed.expires_at == 1234
