"""The address a client used behind a proxy: `X-Forwarded-*` from trusted peers, and `public_url`.

Unit rows for the pure rule, then real servers: a direct client (trusted or not), and Debian's nginx in
front of the mock with the proxy headers docs/deploy.md recommends (skipped without nginx, failed in CI).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_testkit.backing_services import nginx, nginx_binary
from mock_server.config import Settings
from mock_server.forwarded import TrustedProxies, check_public_url, forwarded_origin
from mock_server.runtime.cli import _changes, _parser
from mock_server.runtime.envconfig import overlay
from mock_server.testing import run_server

from .conftest import TEST_SETTINGS

if TYPE_CHECKING:
    from .conftest import AudioHost

LOOPBACK = TrustedProxies.parse(["127.0.0.1", "::1"])
BEHIND = [(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"sandbox.example.com")]


@pytest.mark.parametrize(
    ("headers", "peer", "public_url", "expected"),
    [
        # a direct client: its Host, whatever it forwards
        ([(b"host", b"127.0.0.1:8000")], "127.0.0.1", None, ("http", "127.0.0.1:8000", None)),
        (BEHIND, "203.0.113.9", None, ("http", "a2v_replicas", None)),
        ([*BEHIND, (b"x-forwarded-proto", b"https")], "203.0.113.9", None, ("http", "a2v_replicas", None)),
        # a trusted proxy: host, scheme, port and client as it says
        (BEHIND, "127.0.0.1", None, ("http", "sandbox.example.com", None)),
        ([*BEHIND, (b"x-forwarded-proto", b"https"), (b"x-forwarded-port", b"443")], "127.0.0.1", None,
         ("https", "sandbox.example.com", None)),
        ([*BEHIND, (b"x-forwarded-port", b"8080")], "127.0.0.1", None,
         ("http", "sandbox.example.com:8080", None)),
        ([*BEHIND[:1], (b"x-forwarded-host", b"sandbox.example.com:9443"), (b"x-forwarded-port", b"8080")],
         "127.0.0.1", None, ("http", "sandbox.example.com:9443", None)),
        ([(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"a.example, b.example")], "::1", None,
         ("http", "a.example", None)),
        ([(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"[2001:db8::1]:8443")], "127.0.0.1", None,
         ("http", "[2001:db8::1]:8443", None)),
        ([*BEHIND, (b"x-forwarded-for", b"198.51.100.7, 127.0.0.1")], "127.0.0.1", None,
         ("http", "sandbox.example.com", "198.51.100.7")),
        # what a URL must never carry is not copied into one
        ([(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"evil.example/path?x")], "127.0.0.1", None,
         ("http", "a2v_replicas", None)),
        ([(b"host", b"a2v_replicas"), (b"x-forwarded-host", b"user@evil.example")], "127.0.0.1", None,
         ("http", "a2v_replicas", None)),
        ([*BEHIND, (b"x-forwarded-proto", b"gopher")], "127.0.0.1", None,
         ("http", "sandbox.example.com", None)),
        # public_url wins over Host and X-Forwarded-*, trusted or not
        ([*BEHIND, (b"x-forwarded-proto", b"http")], "127.0.0.1", "https://a2v.example.org",
         ("https", "a2v.example.org", None)),
        ([(b"host", b"127.0.0.1:8000")], "203.0.113.9", "https://a2v.example.org:8443",
         ("https", "a2v.example.org:8443", None)),
    ],
)  # fmt: skip
def test_forwarded_origin(
    headers: list[tuple[bytes, bytes]], peer: str, public_url: str | None, expected: tuple[Any, ...]
) -> None:
    origin = forwarded_origin(headers, peer, "http", LOOPBACK, public_url)
    assert (origin.scheme, origin.host, origin.client) == expected


@pytest.mark.parametrize(
    ("items", "inside", "outside"),
    [
        (["127.0.0.1"], ["127.0.0.1"], ["127.0.0.2", "10.0.0.1", None, "not-an-ip"]),
        (["10.0.0.0/8", "::1"], ["10.1.2.3", "::1"], ["127.0.0.1", "11.0.0.1"]),
        (["*"], ["203.0.113.9", "127.0.0.1"], []),
        ([], [], ["127.0.0.1"]),
    ],
)
def test_trusted_proxies(items: list[str], inside: list[str], outside: list[str | None]) -> None:
    trusted = TrustedProxies.parse(items)
    assert all(peer in trusted for peer in inside)
    assert not any(peer in trusted for peer in outside)


def test_a_bad_trusted_proxy_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"'nginx\.internal' is not an IP address"):
        Settings(forwarded_allow_ips=["127.0.0.1", "nginx.internal"])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://sandbox.example.com", "https://sandbox.example.com"),
        ("https://sandbox.example.com/", "https://sandbox.example.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("ftp://sandbox.example.com", "public_url must be http:// or https://"),
        ("sandbox.example.com", "public_url must be http:// or https://"),
        ("https://sandbox.example.com/a2v", "without a path"),
        ("https://sandbox.example.com?x=1", "without a path"),
    ],
)
def test_public_url_is_an_origin(value: str, expected: str) -> None:
    if expected.startswith("http"):
        assert check_public_url(value) == expected
        assert Settings(public_url=value).public_url == expected
    else:
        with pytest.raises(ValueError, match=expected):
            Settings(public_url=value)


def test_public_url_and_trust_from_the_environment_and_the_flags() -> None:
    env = {"A2V_PUBLIC_URL": "https://env.example.com", "A2V_FORWARDED_ALLOW_IPS": "10.0.0.0/8, 127.0.0.1"}
    settings = overlay(Settings(), env)
    assert (settings.public_url, settings.forwarded_allow_ips) == (
        "https://env.example.com",
        ["10.0.0.0/8", "127.0.0.1"],
    )
    args = _parser().parse_args(
        ["--public-url", "https://flag.example.com", "--forwarded-allow-ips", "10.1.0.0/16"]
    )
    flagged = settings.replace(**_changes(args))
    assert (flagged.public_url, flagged.forwarded_allow_ips) == ("https://flag.example.com", ["10.1.0.0/16"])


def _preview_url(base_url: str, headers: dict[str, str] | None = None) -> str:
    answer = httpx.get(
        f"{base_url}/v1/a2v/character.list", headers={"Authorization": "Bearer fwd", **(headers or {})}
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"][0]["preview_url"])


FORWARDED = {
    "X-Forwarded-Host": "sandbox.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "443",
}


def test_a_direct_client_gets_its_own_address_unless_trusted(tmp_path: Path) -> None:
    with run_server(**{**TEST_SETTINGS, "forwarded_allow_ips": ["10.0.0.0/8"]}) as server:
        assert _preview_url(server.base_url, FORWARDED).startswith(f"{server.base_url}/files/previews/")
    with run_server(**TEST_SETTINGS) as server:  # the default trusts loopback, where a local proxy runs
        assert _preview_url(server.base_url, FORWARDED).startswith(
            "https://sandbox.example.com/files/previews/"
        )
    with run_server(**{**TEST_SETTINGS, "public_url": "https://public.example.com"}) as server:
        assert _preview_url(server.base_url, FORWARDED).startswith("https://public.example.com/files/")
        assert _preview_url(server.base_url).startswith("https://public.example.com/files/")


@pytest.fixture
def nginx_installed() -> None:
    if nginx_binary() is None:
        message = "nginx is not installed (scripts/install-scale-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _wait_finished(base_url: str, video_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        video: dict[str, Any] = httpx.get(
            f"{base_url}/v1/a2v/video.get",
            params={"video_id": video_id},
            headers={"Authorization": "Bearer fwd"},
        ).json()["data"]
        if video["status"] in ("finished", "error"):
            return video
        assert time.monotonic() < deadline, video
        time.sleep(0.1)


def test_signed_urls_name_nginx_not_the_upstream_block(
    tmp_path: Path, audio_host: AudioHost, nginx_installed: None
) -> None:
    """Through nginx (default `Host`: the upstream block's name), a task's URLs name nginx's address and
    download through it; with nginx untrusted they name `a2v_replicas`, as before the fix."""
    with run_server(**TEST_SETTINGS) as server, nginx([server.base_url], tmp_path / "nginx") as balancer:
        made = httpx.post(
            f"{balancer}/v1/a2v/video.generate",
            json={"model_id": "eva_a0008", "audio_url": audio_host.url("/one.wav")},
            headers={"Authorization": "Bearer fwd"},
        )
        assert made.status_code == 200, made.text
        video = _wait_finished(balancer, made.json()["data"]["video_id"])
        assert video["status"] == "finished", video
        for key in ("video_url", "mask_video_url"):
            assert video[key].startswith(f"{balancer}/files/"), video[key]
        downloaded = httpx.get(video["video_url"])
        assert (downloaded.status_code, downloaded.content[4:8]) == (200, b"ftyp")
        assert _preview_url(balancer).startswith(f"{balancer}/files/previews/")
    untrusted = {**TEST_SETTINGS, "forwarded_allow_ips": ["10.0.0.0/8"]}
    with run_server(**untrusted) as server, nginx([server.base_url], tmp_path / "nginx2") as balancer:
        assert _preview_url(balancer).startswith("http://a2v_replicas/files/previews/")
    public = {**TEST_SETTINGS, "public_url": "https://sandbox.example.com"}
    with run_server(**public) as server, nginx([server.base_url], tmp_path / "nginx3") as balancer:
        assert _preview_url(balancer).startswith("https://sandbox.example.com/files/previews/")


def test_the_documented_nginx_directives_are_the_tested_ones(tmp_path: Path) -> None:
    """docs/deploy.md's nginx example sets the headers the tests' nginx sets (scaletesting.nginx_config)."""
    import re

    from a2v_testkit.backing_services import nginx_config

    docs = (Path(__file__).resolve().parents[2] / "docs" / "deploy.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", docs, re.S)
    assert block is not None, "docs/deploy.md has no nginx example"
    documented = {line.strip() for line in block.group(1).splitlines() if line.strip().startswith("proxy_")}
    tested = {line.strip() for line in nginx_config(8080, ["http://127.0.0.1:1"], tmp_path).splitlines()}
    assert documented <= tested, documented - tested
    assert any("X-Forwarded-Host" in line for line in documented)


@pytest.mark.parametrize(
    ("kind", "scheme", "proto", "expected"),
    [
        ("http", "http", b"https", "https"),
        ("websocket", "ws", b"https", "wss"),
        ("websocket", "wss", None, "wss"),
    ],
)
def test_a_websocket_keeps_its_scheme(kind: str, scheme: str, proto: bytes | None, expected: str) -> None:
    from mock_server.forwarded import apply_forwarded

    headers = [(b"host", b"a2v_replicas")] + ([(b"x-forwarded-proto", proto)] if proto else [])
    scope: dict[str, Any] = {"type": kind, "scheme": scheme, "headers": headers, "client": ("127.0.0.1", 5)}
    apply_forwarded(scope, LOOPBACK)
    assert scope["scheme"] == expected
