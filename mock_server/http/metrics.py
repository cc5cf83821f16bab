"""Prometheus metrics (`/metrics`) and the health endpoints (`/healthz`, `/readyz`).

One `Metrics` object per server, with its own `CollectorRegistry` (never the library's global one, so
several servers in one test process do not mix their counts):

    a2v_requests_total{operation, status, code}   requests by operation, HTTP status and envelope code
    a2v_request_seconds{operation}                latency histogram
    a2v_render_seconds                            wall time of each render (the embedded pool's, or a
                                                  worker's on its own `--metrics-port`)
    a2v_renders_total{outcome}                    renders ended, ok or error
    a2v_tasks{status}                             tasks per status in the store (read at scrape)
    a2v_queue_depth                               render messages waiting (read at scrape)
    a2v_store_round_trips_total                   statements this process sent to PostgreSQL
    a2v_queue_published_total                     render messages this process published
    a2v_object_uploads_total                      objects this worker wrote to the object store
    a2v_replica_info{replica, role}               1, naming this process (`replica_name`, else
                                                  host:port for an API replica, host:pid for a
                                                  worker) and its role (api, worker)

Behind a balancer, `/metrics` answers for whichever replica the request reached: scrape each replica
at its own address (docs/deploy.md, "Metrics per replica"); `a2v_replica_info` says which one answered.

`/healthz` says the process runs (liveness: never touches a dependency). `/readyz` checks each
dependency (store, queue, object store) and answers 503 naming those that fail, or while draining for
shutdown, so a load balancer sends nothing more to a replica that is going away.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from bisect import bisect_left
from typing import TYPE_CHECKING

import anyio
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString
from starlette.responses import Response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from prometheus_client.core import Metric
    from starlette.requests import Request

__all__ = ["Health", "Metrics", "replica_name"]

log = logging.getLogger("mock_server")

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_RENDER_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)


class _Counters:
    """Counters this process keeps elsewhere (a store's round trips), read at each scrape."""

    def __init__(self, counters: dict[str, tuple[str, Callable[[], float]]]) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        for name, (doc, read) in self.counters.items():
            yield CounterMetricFamily(name, doc, value=read())


class _Latency:
    """One operation's latency: the count of each bucket (the last one past every bound) and the sum."""

    __slots__ = ("buckets", "total")

    def __init__(self) -> None:
        self.buckets = [0] * (len(_LATENCY_BUCKETS) + 1)
        self.total = 0.0


class _RequestSeries:
    """`a2v_requests_total` and `a2v_request_seconds`, counted in plain dicts and lists and turned into
    Prometheus series only when scraped: a request costs the event loop a few increments, not a labelled
    child's lookup and two locks (the library's `Counter` and `Histogram`)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int, int | None], int] = {}
        self.latency: dict[str, _Latency] = {}

    def observe(self, operation: str, status: int, code: int | None, seconds: float) -> None:
        key = (operation, status, code)
        self.counts[key] = self.counts.get(key, 0) + 1
        timed = self.latency.get(operation)
        if timed is None:
            timed = self.latency[operation] = _Latency()
        timed.buckets[bisect_left(_LATENCY_BUCKETS, seconds)] += 1  # the first bound >= seconds: its `le`
        timed.total += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "a2v_requests",
            "API requests by operation, HTTP status and envelope code",
            labels=["operation", "status", "code"],
        )
        for (operation, status, code), count in list(self.counts.items()):
            requests.add_metric([operation, str(status), "" if code is None else str(code)], count)
        yield requests
        latency = HistogramMetricFamily("a2v_request_seconds", "API request latency", labels=["operation"])
        for operation, timed in list(self.latency.items()):
            cumulative, running = [], 0
            for bound, count in zip((*_LATENCY_BUCKETS, float("inf")), timed.buckets, strict=True):
                running += count
                cumulative.append((floatToGoString(bound), running))
            latency.add_metric([operation], cumulative, sum_value=timed.total)
        yield latency


def replica_name(configured: str | None, port: int | None = None) -> str:
    """This process's name in `a2v_replica_info`: the `replica_name` setting, else `host:port` (an API
    replica) or `host:pid` (a worker, `port` None)."""
    if configured:
        return configured
    return f"{socket.gethostname()}:{port if port is not None else os.getpid()}"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.replica = Info("a2v_replica", "Which process answers this scrape", registry=self.registry)
        self.requests = _RequestSeries()
        self.registry.register(self.requests)
        self.render_seconds = Histogram(
            "a2v_render_seconds", "Wall time of one render", buckets=_RENDER_BUCKETS, registry=self.registry
        )
        self.renders = Counter("a2v_renders", "Renders ended", ["outcome"], registry=self.registry)
        self.tasks = Gauge("a2v_tasks", "Tasks in the store per status", ["status"], registry=self.registry)
        self.depth = Gauge("a2v_queue_depth", "Render messages waiting in the queue", registry=self.registry)
        self._tasks_source: Callable[[], Awaitable[dict[str, int]]] | None = None
        self._depth_source: Callable[[], int] | None = None

    def identify(self, name: str, role: str) -> None:
        """Name this process in `a2v_replica_info` (an API replica: role `api`; a worker: `worker`)."""
        self.replica.info({"replica": name, "role": role})

    def watch(
        self,
        tasks: Callable[[], Awaitable[dict[str, int]]] | None = None,
        depth: Callable[[], int] | None = None,
        counters: dict[str, tuple[str, Callable[[], float]]] | None = None,
    ) -> None:
        """Read tasks per status (a coroutine), the queue depth (blocking: run on a thread) and process
        counters (name -> (help, read)) at each scrape."""
        self._tasks_source, self._depth_source = tasks, depth
        if counters:
            self.registry.register(_Counters(counters))

    async def refresh(self) -> None:
        """Read the scrape-time gauges; a source that fails leaves its gauge as it was (logged)."""
        if self._tasks_source is not None:
            try:
                counts = await self._tasks_source()
                for status in ("pending", "in_progressing", "finished", "error"):
                    self.tasks.labels(status).set(counts.get(status, 0))
            except Exception as err:  # a scrape must not fail because the store does
                log.warning("metrics: tasks per status unavailable: %s", err)
        if self._depth_source is not None:
            try:
                self.depth.set(await anyio.to_thread.run_sync(self._depth_source))
            except Exception as err:
                log.warning("metrics: queue depth unavailable: %s", err)

    def observe_request(self, operation: str, status: int, code: int | None, seconds: float) -> None:
        """Note one API request (by operation, HTTP status, envelope code) and its latency."""
        self.requests.observe(operation, status, code, seconds)

    def observe_render(self, seconds: float, ok: bool) -> None:
        self.render_seconds.observe(seconds)
        self.renders.labels("ok" if ok else "error").inc()

    async def endpoint(self, request: Request) -> Response:
        await self.refresh()
        body = await anyio.to_thread.run_sync(generate_latest, self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class Health:
    """Liveness and readiness; `checks` maps a dependency's name to a coroutine function that raises
    when the dependency fails."""

    def __init__(self, checks: dict[str, Callable[[], Awaitable[None]]] | None = None) -> None:
        self.checks = dict(checks or {})
        self.draining = False

    async def healthz(self, request: Request) -> Response:
        return _json(200, {"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if self.draining:
            return _json(503, {"status": "draining", "checks": {}})
        results: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                with anyio.fail_after(5):
                    await check()
                results[name] = "ok"
            except Exception as err:
                results[name] = f"{type(err).__name__}: {err}"[:300]
        ok = all(value == "ok" for value in results.values())
        return _json(200 if ok else 503, {"status": "ready" if ok else "unavailable", "checks": results})


def _json(status: int, data: object) -> Response:
    return Response(json.dumps(data).encode(), status_code=status, media_type="application/json")
