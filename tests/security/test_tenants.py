"""One tenant must not hold another's share: total download time, queue share, render turns, Prefer
duration cap, login namespace, derived tenant ids in the admin API."""

from __future__ import annotations

import asyncio
import contextlib
import select
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_server.auth import tenant_id
from mock_server.tasks.fairness import FairGate
from tests.security.conftest import BASE, admin_headers, client_for, deliveries, submit, wait_for, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mock_server.testing import RunningServer
    from tests.security.conftest import HostileHost


def test_a_dripping_host_is_cut_off_at_the_total_download_time(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve()  # audio_fetch_timeout_seconds is 3: a byte every 0.2 s never trips a read timeout
    with client_for(server) as client:
        started = time.monotonic()
        video = wait_for(client, submit(client, hostile.url("/drip")), timeout=20)
    assert video["error"]["code"] == 10002
    assert "within 3 s" in video["error"]["message"]
    assert time.monotonic() - started < 12


def test_a_hanging_host_is_cut_off_too(serve: Callable[..., RunningServer], hostile: HostileHost) -> None:
    server = serve()
    with client_for(server) as client:
        video = wait_for(client, submit(client, hostile.url("/hang")), timeout=20)
    assert video["error"]["code"] == 10002


def test_one_tenant_fills_only_its_share_of_the_queue(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve(queue_capacity=10, tenant_queue_capacity=3, timings={"pending_seconds": 30})
    with client_for(server) as flood, client_for(server) as other:
        for _ in range(3):
            submit(flood, hostile.url("/ok.wav"))
        refused = flood.post(
            "/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": hostile.url("/ok.wav")}
        )
        assert refused.status_code == 503
        assert refused.json()["code"] == 1010
        assert refused.headers["retry-after"]
        submit(other, hostile.url("/ok.wav"))  # accepted: the flood used only its own share


def test_prefer_duration_is_capped(serve: Callable[..., RunningServer], hostile: HostileHost) -> None:
    server = serve(max_prefer_duration_seconds=10)
    with client_for(server) as client:
        body = {"model_id": "eva_a0008", "audio_url": hostile.url("/ok.wav")}
        response = client.post("/v1/a2v/video.generate", json=body, headers={"Prefer": "duration=20"})
        assert response.status_code == 400
        assert response.json()["code"] == 1003
        assert "limit of 10 s" in response.json()["message"]
        ok = client.post("/v1/a2v/video.generate", json=body, headers={"Prefer": "duration=1"})
        assert ok.status_code == 200


def test_render_slots_go_round_robin_between_tenants() -> None:
    async def scenario() -> list[str]:
        gate, order = FairGate(1), []

        async def render(tenant: str, index: int) -> None:
            async with gate.slot(tenant):
                order.append(f"{tenant}{index}")
                await asyncio.sleep(0.01)

        jobs = [asyncio.create_task(render("a", i)) for i in range(4)]
        await asyncio.sleep(0)
        jobs.append(asyncio.create_task(render("b", 0)))
        await asyncio.gather(*jobs)
        return order

    assert asyncio.run(scenario()) == ["a0", "a1", "b0", "a2", "a3"]


def test_a_cancelled_waiter_gives_its_turn_away() -> None:
    async def scenario() -> int:
        gate = FairGate(1)
        async with gate.slot("a"):
            waiter = asyncio.create_task(gate.slot("b").__aenter__())
            await asyncio.sleep(0)
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
        return gate.free

    assert asyncio.run(scenario()) == 1


def test_a_raw_token_cannot_name_a_login_tenant(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve()  # open mode: any login works, any token works
    login = httpx.post(
        f"{server.base_url}/v1/auth/account.login",
        json={"username": "developer@example.com", "password": "pw"},
        timeout=10,
    ).json()["data"]
    with client_for(server, login["access_token"]) as owner:
        video_id = submit(owner, hostile.url("/ok.wav"))
        with client_for(server, "user:developer@example.com") as impostor:
            response = impostor.get("/v1/a2v/video.get", params={"video_id": video_id})
            assert response.json()["code"] == 20002
            assert impostor.get("/v1/a2v/video.list").json()["data"] == []
        wait_for(owner, video_id)


def test_the_admin_api_shows_derived_tenant_ids_never_tokens(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve(
        api_keys=["secret-key-1"],
        admin_key="admin-1",
        audio_hosts=["127.0.0.1"],
        callback_hosts=["127.0.0.1"],
    )
    admin = httpx.Client(base_url=server.base_url, headers=admin_headers(server), timeout=10)
    with client_for(server, "secret-key-1") as client:
        video_id = submit(client, hostile.url("/ok.wav"), callback_url=hostile.url("/hook"))
        wait_for(client, video_id)
    wait_until(lambda: deliveries(server, video_id), what="a delivery record")
    with admin:
        for path in ("/__admin/tasks", "/__admin/requests", "/__admin/callbacks"):
            text = admin.get(path).text
            assert "secret-key-1" not in text, path
        tasks = admin.get("/__admin/tasks").json()["data"]
        assert {t["tenant"] for t in tasks} == {tenant_id("secret-key-1")}
        # the admin API still takes a token or the derived id to pick a tenant
        by_token = admin.get("/__admin/tasks", params={"tenant": "secret-key-1"})
        by_id = admin.get("/__admin/tasks", params={"tenant": tenant_id("secret-key-1")})
    assert len(by_token.json()["data"]) == len(by_id.json()["data"]) == 1


@pytest.mark.parametrize("path", ["/hook-huge"])
def test_a_huge_callback_answer_is_not_read(
    serve: Callable[..., RunningServer], hostile: HostileHost, path: str
) -> None:
    server = serve(callback_timeout_seconds=3)
    with client_for(server) as client:
        video_id = submit(client, hostile.url("/ok.wav"), callback_url=hostile.url(path))
        wait_for(client, video_id)
    records = wait_until(
        lambda: [d for d in deliveries(server, video_id) if d["state"] == "delivered"],
        timeout=8,
        what="the delivery to be recorded as delivered",
    )
    assert records[0]["attempts"] == 1


class Receiver:
    """A raw loopback HTTP receiver (an ASGI server sends its head at once): reads a request, then
    answers one byte of `HTTP/1.1 200 OK...` every `interval` seconds, or nothing at all. Counts the
    connections it holds at once."""

    def __init__(self, interval: float | None) -> None:
        import socket
        import threading

        self.interval = interval
        self.open = self.most = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Any) -> None:
        with self._lock:
            self.open += 1
            self.most = max(self.most, self.open)
        try:
            conn.settimeout(0.5)
            with contextlib.suppress(OSError):
                conn.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"y" * 10_000
            for byte in answer:
                readable, _, _ = select.select([conn], [], [], self.interval or 0.5)
                if self._stop.is_set() or (readable and not conn.recv(1)):
                    break  # the mock hung up: counted at once
                if self.interval is not None:
                    conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.open -= 1

    def close(self) -> None:
        self._stop.set()
        self._server.close()


@pytest.fixture
def receiver() -> Iterator[Callable[[float | None], Receiver]]:
    made: list[Receiver] = []

    def make(interval: float | None) -> Receiver:
        made.append(Receiver(interval))
        return made[-1]

    yield make
    for one in made:
        one.close()


FAIL_AT_ONCE = {"Prefer": "outcome=error, error_code=10003"}  # ends the task without a render


def _ended_with_callback(client: httpx.Client, server: RunningServer, callback_url: str) -> str:
    body = {"model_id": "eva_a0008", "audio_url": f"{server.base_url}/samples/short.wav"}
    answer = client.post(
        "/v1/a2v/video.generate", json={**body, "callback_url": callback_url}, headers=FAIL_AT_ONCE
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["data"]["video_id"])


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_attempt_deadline(
    serve: Callable[..., RunningServer], receiver: Callable[[float | None], Receiver]
) -> None:
    """A header byte every 0.5 s never trips a 2 s per-read timeout; the attempt's total deadline must."""
    slow = receiver(0.5)
    server = serve(callback_timeout_seconds=2, callback_attempts=1, timings={"pending_seconds": 0.0})
    with client_for(server) as client:
        video_id = _ended_with_callback(client, server, slow.url)
        started = time.monotonic()
        wait_for(client, video_id)
    (record,) = wait_until(
        lambda: [d for d in deliveries(server, video_id) if d["state"] == "failed"],
        timeout=12,
        what="the trickled attempt to be cut off",
    )
    assert record["attempts"] == 1
    assert record["last_error"] == "AttemptTimedOut"
    assert time.monotonic() - started < 8
    wait_until(lambda: slow.open == 0, timeout=5, what="the receiver's socket to be closed")


def test_one_tenant_has_at_most_its_share_of_deliveries_in_flight(
    serve: Callable[..., RunningServer], receiver: Callable[[float | None], Receiver], hostile: HostileHost
) -> None:
    from mock_server.tasks import callbacks

    limit = getattr(callbacks, "TENANT_IN_FLIGHT", 4)  # 4: before the cap had a name
    hanging = receiver(None)  # accepts, reads, never answers
    server = serve(callback_timeout_seconds=5, callback_attempts=1, timings={"pending_seconds": 0.0})
    with client_for(server) as attacker, client_for(server) as other:
        flood = [_ended_with_callback(attacker, server, hanging.url) for _ in range(3 * limit)]
        wait_until(lambda: hanging.open >= limit, what="the flood's first attempts")
        own = _ended_with_callback(other, server, hostile.url("/hook"))
        (delivered,) = wait_until(
            lambda: [d for d in deliveries(server, own) if d["state"] == "delivered"],
            timeout=4,
            what="the other tenant's delivery during the flood",
        )
        assert delivered["attempts"] == 1
        assert hanging.most == limit  # never more sockets for one tenant
        assert len(flood) == 3 * limit


def test_a_tenant_holds_at_most_its_share_of_a_gate() -> None:
    async def scenario() -> tuple[int, int, list[str]]:
        gate, started = FairGate(4, per_tenant=2), []
        release = asyncio.Event()

        async def work(tenant: str, index: int) -> None:
            async with gate.slot(tenant):
                started.append(f"{tenant}{index}")
                await release.wait()

        flood = [asyncio.create_task(work("a", i)) for i in range(6)]
        await asyncio.sleep(0.01)
        held_by_a, free = gate.held("a"), gate.free
        other = asyncio.create_task(work("b", 0))
        await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(*flood, other)
        return held_by_a, free, started

    held_by_a, free, started = asyncio.run(scenario())
    assert (held_by_a, free) == (2, 2)  # two slots left free for anyone else
    assert started[:3] == ["a0", "a1", "b0"]  # b went in at once, beside the flood


def test_the_mocks_own_sample_needs_no_download_slot_during_a_flood(
    serve: Callable[..., RunningServer], receiver: Callable[[float | None], Receiver]
) -> None:
    """16 tasks of one tenant on audio URLs that never answer; another tenant's sample task must end
    while they all still wait (it used to queue behind them for a download slot)."""
    limits = {**BASE["limits"], "audio_fetch_timeout_seconds": 30.0}
    server = serve(download_workers=8, limits=limits)
    with client_for(server) as flooder, client_for(server) as other:
        silent = receiver(None)  # accepts, reads the request, never answers
        flood = [submit(flooder, f"{silent.url}?n={index}") for index in range(16)]
        wait_until(lambda: silent.open >= 4, what="the flood's downloads")
        video = wait_for(other, submit(other, f"{server.base_url}/samples/short.wav"), timeout=25)
        statuses = [
            flooder.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]["status"]
            for video_id in flood
        ]
    assert video["status"] == "finished"
    assert set(statuses) <= {"pending", "in_progressing"}  # the flood still hangs
    assert silent.most == 4  # the flooder's downloads: half of the 8 slots, at most
