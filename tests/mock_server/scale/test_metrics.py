"""Metrics in the Prometheus text format, liveness, and readiness that names a failing dependency."""

from __future__ import annotations

import socket

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from mock_server.http.metrics import Health, Metrics, replica_name
from mock_server.scale.shared_limits import SharedRateLimiter
from mock_server.scenario_values import RateLimit
from mock_server.testing import app_client, run_server


def _broken() -> int:
    raise ConnectionRefusedError("no broker")


async def _counts() -> dict[str, int]:
    return {"finished": 3, "pending": 1}


async def _fine() -> None:
    pass


async def _refused() -> None:
    _broken()


def test_metrics_text() -> None:
    metrics = Metrics()
    metrics.watch(tasks=_counts, depth=lambda: 7, counters={"a2v_store_round_trips": ("trips", lambda: 12)})
    metrics.observe_request("video.get", 200, 0, 0.004)
    metrics.observe_request("video.get", 404, 20002, 0.002)
    metrics.observe_render(1.5, ok=True)
    app = Starlette(routes=[Route("/metrics", metrics.endpoint)])
    with app_client(app) as client:
        text = client.get("/metrics").text
    assert 'a2v_requests_total{code="20002",operation="video.get",status="404"} 1.0' in text
    assert 'a2v_request_seconds_bucket{le="0.005",operation="video.get"} 2.0' in text
    assert 'a2v_tasks{status="finished"} 3.0' in text
    assert 'a2v_tasks{status="error"} 0.0' in text
    assert "a2v_queue_depth 7.0" in text
    assert 'a2v_renders_total{outcome="ok"} 1.0' in text
    assert "a2v_render_seconds_count 1.0" in text
    assert "a2v_store_round_trips_total 12.0" in text


@pytest.mark.parametrize(
    ("configured", "port", "expected"),
    [
        ("api-1", 8000, "api-1"),
        (None, 8000, f"{socket.gethostname()}:8000"),
        ("", 9000, f"{socket.gethostname()}:9000"),
    ],
)
def test_replica_name(configured: str | None, port: int, expected: str) -> None:
    assert replica_name(configured, port) == expected


def test_a_worker_is_named_by_its_process() -> None:
    import os

    assert replica_name(None) == f"{socket.gethostname()}:{os.getpid()}"


@pytest.mark.parametrize("named", [None, "eu-1a"])
def test_each_replica_names_itself_in_its_metrics(named: str | None) -> None:
    with run_server(replica_name=named) as server:
        text = httpx.get(f"{server.base_url}/metrics").text
    name = named or f"{socket.gethostname()}:{server.settings.port}"
    assert f'a2v_replica_info{{replica="{name}",role="api"}} 1.0' in text


def test_a_failing_dependency_leaves_the_scrape_working() -> None:
    metrics = Metrics()
    metrics.watch(tasks=_counts, depth=_broken)
    app = Starlette(routes=[Route("/metrics", metrics.endpoint)])
    with app_client(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "a2v_queue_depth 0.0" in response.text  # left as it was
    assert 'a2v_tasks{status="finished"} 3.0' in response.text


@pytest.mark.parametrize(
    ("checks", "draining", "status", "body"),
    [
        ({"store": _fine}, False, 200, {"status": "ready", "checks": {"store": "ok"}}),
        (
            {"store": _fine, "queue": _refused},
            False,
            503,
            {
                "status": "unavailable",
                "checks": {"store": "ok", "queue": "ConnectionRefusedError: no broker"},
            },
        ),
        ({"store": _fine}, True, 503, {"status": "draining", "checks": {}}),
    ],
)
def test_readiness(checks: dict[str, object], draining: bool, status: int, body: dict[str, object]) -> None:
    health = Health(checks)  # type: ignore[arg-type]
    health.draining = draining
    app = Starlette(routes=[Route("/readyz", health.readyz), Route("/healthz", health.healthz)])
    with app_client(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        response = client.get("/readyz")
    assert (response.status_code, response.json()) == (status, body)


@pytest.mark.anyio
async def test_shared_limiter_spans_replicas(pg_dsn: str) -> None:
    from mock_server.scale.postgres.store import PostgresStore

    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    try:
        limiters = [SharedRateLimiter(s, RateLimit(3, 60.0)) for s in stores]
        windows = [await limiters[i % 2].ahit("k") for i in range(5)]
        assert [w.allowed for w in windows] == [True, True, True, False, False]
        assert [w.left for w in windows] == [2, 1, 0, 0, 0]
        assert (b"x-ratelimit-total", b"3") in windows[-1].raw_headers()
        await limiters[1].areset("k")
        assert (await limiters[0].ahit("k")).allowed
        off = SharedRateLimiter(stores[0], None)
        assert (await off.ahit("k")).allowed
    finally:
        for s in stores:
            await s.aclose()
