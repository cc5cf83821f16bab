"""One tenant must not hold another's share: total download time, queue share, render turns, Prefer
duration cap, login namespace, derived tenant ids in the admin API."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from mock_server.auth import tenant_id
from mock_server.fairness import FairGate
from tests.security.conftest import client_for, deliveries, submit, wait_for, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

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
    server = serve(api_keys=["secret-key-1"], audio_hosts=["127.0.0.1"], callback_hosts=["127.0.0.1"])
    with client_for(server, "secret-key-1") as client:
        video_id = submit(client, hostile.url("/ok.wav"), callback_url=hostile.url("/hook"))
        wait_for(client, video_id)
    wait_until(lambda: deliveries(server, video_id), what="a delivery record")
    for path in ("/__admin/tasks", "/__admin/journal", "/__admin/callbacks"):
        text = httpx.get(server.base_url + path, timeout=10).text
        assert "secret-key-1" not in text, path
    tasks = httpx.get(server.base_url + "/__admin/tasks", timeout=10).json()["data"]
    assert {t["tenant"] for t in tasks} == {tenant_id("secret-key-1")}
    # the admin API still takes a token or the derived id to pick a tenant
    by_token = httpx.get(server.base_url + "/__admin/tasks", params={"tenant": "secret-key-1"}, timeout=10)
    by_id = httpx.get(
        server.base_url + "/__admin/tasks", params={"tenant": tenant_id("secret-key-1")}, timeout=10
    )
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
