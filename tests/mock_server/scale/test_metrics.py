"""Metrics in the Prometheus text format, liveness, and readiness that names a failing dependency."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from mock_server.metrics import Health, Metrics
from mock_server.sharedlimit import SharedRateLimiter
from mock_server.testing import app_client


def _broken() -> None:
    raise ConnectionRefusedError("no broker")


def test_metrics_text() -> None:
    metrics = Metrics()
    metrics.watch(tasks=lambda: {"finished": 3, "pending": 1}, depth=lambda: 7)
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


def test_a_failing_dependency_leaves_the_scrape_working() -> None:
    metrics = Metrics()
    metrics.watch(tasks=lambda: {}, depth=lambda: int(_broken() or 0))
    app = Starlette(routes=[Route("/metrics", metrics.endpoint)])
    with app_client(app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert "a2v_queue_depth" not in response.text


@pytest.mark.parametrize(
    ("checks", "draining", "status", "body"),
    [
        ({"store": lambda: None}, False, 200, {"status": "ready", "checks": {"store": "ok"}}),
        (
            {"store": lambda: None, "queue": _broken},
            False,
            503,
            {
                "status": "unavailable",
                "checks": {"store": "ok", "queue": "ConnectionRefusedError: no broker"},
            },
        ),
        ({"store": lambda: None}, True, 503, {"status": "draining", "checks": {}}),
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


def test_shared_limiter_spans_replicas(pg_dsn: str) -> None:
    from mock_server.pgstore import PostgresStore

    stores = [PostgresStore(pg_dsn), PostgresStore(pg_dsn, migrate_schema=False)]
    try:
        limiters = [SharedRateLimiter(s, {"requests": 3, "per_seconds": 60}) for s in stores]
        windows = [limiters[i % 2].hit("k") for i in range(5)]
        assert [w.allowed for w in windows] == [True, True, True, False, False]
        assert [w.left for w in windows] == [2, 1, 0, 0, 0]
        assert windows[-1].headers()["X-Ratelimit-Total"] == "3"
        limiters[1].reset("k")
        assert limiters[0].hit("k").allowed
        off = SharedRateLimiter(stores[0], None)
        assert off.hit("k").allowed
    finally:
        for s in stores:
            s.close()
