"""The proxy's lean upstream client against a real loopback host: keep-alive, chunked and HEAD answers,
the failures it turns into 502 and 504, and a slow reader that pauses the upstream."""

from __future__ import annotations

import asyncio
import socket

import pytest

from a2v_testkit import DeclaredLength, FileHost, Reply, Stream, free_port
from contract_tests.proxy.upstream import Upstream, UpstreamError, UpstreamTimeout


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_keeps_connections_alive_and_reads_every_kind_of_body() -> None:
    async def scenario(host: FileHost) -> None:
        upstream = Upstream(timeout=5)
        fixed = host.add("/a", b"hello", "text/plain")
        host.route("/chunked", Stream(3, chunk_size=1000))
        for _ in range(3):
            answer = await upstream.request("GET", fixed, [(b"x-test", b"1")], b"")
            assert (answer.status_code, answer.header("content-type")) == (200, "text/plain")
            assert await answer.aread() == b"hello"
            await answer.aclose()
        chunked = await upstream.request("GET", host.url("/chunked"), [], b"")
        assert await chunked.aread() == b"\0" * 3000
        await chunked.aclose()
        head = await upstream.request("HEAD", fixed, [], b"")
        assert (head.header("content-length"), await head.aread()) == ("5", b"")
        await head.aclose()
        posted = await upstream.request("POST", host.url("/missing"), [], b'{"a": 1}')
        assert posted.status_code == 404
        await posted.aread()
        await posted.aclose()
        assert upstream.idle() == 1  # one kept-alive connection served every request
        await upstream.aclose()

    with FileHost() as host:
        run(scenario(host))
    assert host.requests("/missing")[0].body == b'{"a": 1}'


def test_refused_connections_and_silent_hosts() -> None:
    async def refused() -> None:
        await Upstream(timeout=1).request("GET", f"http://127.0.0.1:{free_port()}/", [], b"")

    with pytest.raises(UpstreamError, match="cannot connect"):
        run(refused())

    async def slow(host: FileHost) -> None:
        host.route("/slow", Reply(b"late", delay=3))
        host.route("/stalls", DeclaredLength(100))
        upstream = Upstream(timeout=0.3)
        with pytest.raises(UpstreamTimeout, match="did not answer within"):
            await upstream.request("GET", host.url("/slow"), [], b"")
        stalled = await upstream.request("GET", host.url("/stalls"), [], b"")
        with pytest.raises(UpstreamTimeout, match="stopped sending"):
            await stalled.aread()
        await stalled.aclose()

    with FileHost() as host:
        run(slow(host))


async def _raw(reply: bytes) -> tuple[int, bytes]:
    """One request to a socket server that answers `reply`, bytes as they are."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.sendall(reply)
        conn.close()

    with listener:
        task = asyncio.get_running_loop().run_in_executor(None, answer)
        try:
            response = await Upstream(timeout=2).request("POST", f"http://127.0.0.1:{port}/", [], b"{}")
            return response.status_code, await response.aread()
        finally:
            await task


def test_not_http_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        run(_raw(b"SMTP ready\r\n\r\n"))


def test_an_interim_answer_is_skipped_and_a_body_may_end_with_the_connection() -> None:
    reply = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it"
    assert run(_raw(reply)) == (200, b"all of it")


def test_a_slow_reader_pauses_the_upstream_and_still_gets_everything() -> None:
    async def scenario(host: FileHost) -> None:
        host.route("/big", Stream(200, chunk_size=16384))
        upstream = Upstream(timeout=5)
        answer = await upstream.request("GET", host.url("/big"), [], b"")
        size = 0
        async for chunk in answer.aiter_raw():
            size += len(chunk)
            await asyncio.sleep(0.001)
        assert size == 200 * 16384
        await answer.aclose()
        await upstream.aclose()

    with FileHost() as host:
        run(scenario(host))
