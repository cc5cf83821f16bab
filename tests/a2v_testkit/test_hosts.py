"""a2v_testkit.hosts: a loopback host that serves what it is given, misbehaves on request and records."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_testkit.hosts import DeclaredLength, FileHost, Redirect, Replies, Reply, Stream

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="module")
def host() -> Iterator[FileHost]:
    with FileHost() as running:
        yield running


@pytest.fixture(autouse=True)
def _empty(host: FileHost) -> None:
    host.clear()


def test_serves_added_bytes_with_their_type_and_404_elsewhere(host: FileHost) -> None:
    url = host.add("/clips/a.wav", b"RIFF....", "audio/x-wav")

    found = httpx.get(url)
    head = httpx.head(url)
    missing = httpx.get(host.url("/clips/b.wav"))

    assert url == f"{host.base_url}/clips/a.wav"
    assert url.startswith("http://127.0.0.1:")
    assert (found.status_code, found.content, found.headers["content-type"]) == (
        200,
        b"RIFF....",
        "audio/x-wav",
    )
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "8")
    assert missing.status_code == 404


def test_clear_and_remove_forget_what_was_served(host: FileHost) -> None:
    kept = host.add("kept", b"1")
    gone = host.add("gone", b"2")
    host.remove("gone")
    assert (httpx.get(kept).status_code, httpx.get(gone).status_code) == (200, 404)

    host.clear()
    assert httpx.get(kept).status_code == 404
    assert host.count() == 1  # only the request after clear()


@pytest.mark.parametrize("status", [403, 404, 410, 500, 503])
def test_a_chosen_status_and_headers(host: FileHost, status: int) -> None:
    url = host.add(f"/status/{status}", b"", status=status, headers={"Retry-After": "7"})

    response = httpx.get(url)

    assert (response.status_code, response.headers["retry-after"], response.content) == (status, "7", b"")


def test_a_slow_reply_answers_after_its_delay(host: FileHost) -> None:
    url = host.add("/slow", b"late", delay=0.3)

    started = time.monotonic()
    assert httpx.get(url).content == b"late"
    assert time.monotonic() - started >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=0.05)


def test_replies_follow_the_script_then_the_default(host: FileHost) -> None:
    url = host.route("/hooks/{key}", Replies([500, Reply(b"busy", 503)], then=204), methods=["POST"])

    statuses = [httpx.post(url.replace("{key}", "k"), content=b"x").status_code for _ in range(4)]

    assert statuses == [500, 503, 204, 204]


def test_a_redirect_loop_is_followed_until_the_client_gives_up(host: FileHost) -> None:
    url = host.route("/loop", Redirect("/loop"))

    with pytest.raises(httpx.TooManyRedirects):
        httpx.get(url, follow_redirects=True)
    assert host.count("/loop") == 21  # the first request and httpx's 20 redirects


def test_a_declared_length_is_never_sent(host: FileHost) -> None:
    url = host.route("/huge-declared", DeclaredLength(10**9))

    with httpx.stream("GET", url, timeout=5) as response:
        assert response.headers["content-length"] == str(10**9)
    # the host is still fine after the client hung up
    assert httpx.get(host.add("/after", b"ok")).content == b"ok"


def test_a_stream_has_no_declared_length(host: FileHost) -> None:
    url = host.route("/huge-streamed", Stream(chunks=4, chunk_size=1000))

    response = httpx.get(url)

    assert "content-length" not in response.headers
    assert response.content == b"\0" * 4000


def test_every_request_is_recorded_with_its_body_and_headers(host: FileHost) -> None:
    url = host.route("/hooks/{key}", Reply(b"ok", content_type="text/plain"), methods=["POST"])
    hook = url.replace("{key}", "abc")

    httpx.post(hook, content=b'{"a": 1}', headers={"X-Sig": "s1"}, params={"try": "1"})
    httpx.get(host.url("/elsewhere"))

    [delivery] = host.requests("/hooks/abc", method="post")
    assert (delivery.method, delivery.query, delivery.body) == ("POST", "try=1", b'{"a": 1}')
    assert delivery.headers["x-sig"] == "s1"
    assert [r.path for r in host.requests()] == ["/hooks/abc", "/elsewhere"]


def test_wait_for_returns_once_enough_requests_came(host: FileHost) -> None:
    url = host.add("/ping", b"")
    threading.Timer(0.1, lambda: [httpx.get(url) for _ in range(2)]).start()

    got = host.wait_for(2, "/ping", timeout=10)

    assert len(got) == 2


def test_wait_for_names_what_was_missing(host: FileHost) -> None:
    with pytest.raises(TimeoutError, match=r"0 of 1 requests to http://127\.0\.0\.1:\d+/never within 0\.1 s"):
        host.wait_for(1, "/never", timeout=0.1)


def test_a_stream_can_drip(host: FileHost) -> None:
    url = host.route("/drip", Stream(chunks=3, chunk_size=10, interval=0.2))

    started = time.monotonic()
    assert httpx.get(url).content == b"\0" * 30
    assert time.monotonic() - started >= 0.4


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6(), reason="no ::1 on this machine")
def test_a_host_on_ipv6_loopback() -> None:
    with FileHost("::1") as host:
        url = host.add("/a", b"six")

        assert url.startswith("http://[::1]:")
        assert url == host.base_url + "/a"
        assert httpx.get(url).content == b"six"
