"""`a2v-mock worker`: run tasks from the broker on any machine.

A worker consumes `a2v.render(video_id)` messages. Each message is one render turn: the worker asks the
store for the fairest waiting task of the whole cluster (`scale/postgres/fair_claims.py`: round-robin
over tenants, so one tenant's flood does not hold back another's task) and runs the embedded server's
own task state machine (`TaskRunner`: wait the planned pending time, fetch the audio with the same limits,
render, keep the deadline) against the shared PostgreSQL store, rendering in this process
(`InlineRenderQueue`) and putting both videos in the object store before the task may become
`finished`. Only then is the message acknowledged (acks late): a worker killed at any point leaves it
to be redelivered, and the redelivered message resumes the task it had claimed; a task that meanwhile
ended (another copy won) is left as it is.

Each worker process builds its state on its first message (after a prefork fork, never before; at once
in the default solo pool): a store with two connections that retries a lost connection, the S3 client,
and an event loop thread for the runner. Callbacks are not sent here: ending a task writes its delivery
to the store's outbox, which the API replicas deliver.

Example::

    a2v-mock worker --store postgresql://postgres@db/a2v --queue amqp://guest:guest@mq:5672/a2v \\
        --files s3://a2v-results/sandbox
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread

from mock_server.errors import ServiceUnavailable, TaskFailure
from mock_server.http.metrics import Metrics, replica_name
from mock_server.scale.celery_queue import RENDER_TASK, make_celery
from mock_server.scale.postgres.store import PostgresStore
from mock_server.scale.s3 import S3FileStore
from mock_server.tasks.egress import HostPolicy
from mock_server.tasks.render import process_pool

if TYPE_CHECKING:
    from collections.abc import Callable

    from celery import Celery, Task

    from mock_server.config import Settings
    from mock_server.tasks.render import RenderJob
    from mock_server.tasks.runner import TaskRunner

__all__ = ["InlineRenderQueue", "WorkerContext", "WorkerOptions", "build_worker_app", "run_worker"]

log = logging.getLogger("mock_server.worker")

#: Seconds between two progress reports of one render (each is a store round trip).
_PROGRESS_EVERY = 0.5


@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    """Where the shared state lives: the same values the API replicas use."""

    store: str
    queue: str
    files: str
    s3_endpoint_url: str | None = None
    queue_name: str = "a2v-render"
    concurrency: int = 1
    #: Serve this worker's Prometheus metrics on `metrics_host:metrics_port` (None: not served).
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"


class _ProgressSink:
    """Stands in for the local pool's progress queue: `render_job` puts (job_id, done, total) here."""

    def __init__(self) -> None:
        self.target: Callable[[int, int], None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._last = 0.0

    def put(self, item: tuple[str, int, int]) -> None:
        now = time.monotonic()
        _, done, total = item
        if self.target is None or self.loop is None:
            return
        if now - self._last >= _PROGRESS_EVERY or done >= total:
            self._last = now
            self.loop.call_soon_threadsafe(self.target, done, total)


class InlineRenderQueue:
    """The `RenderQueue` of a worker: the render runs in this process, on a thread, one at a time
    (the worker process is the unit of concurrency, so a `kill -9` takes exactly its own render)."""

    def __init__(self, characters_file: str | None = None, metrics: Metrics | None = None) -> None:
        self.characters_file = characters_file
        self.metrics = metrics
        self._sink = _ProgressSink()
        process_pool.report_progress_to(self._sink)

    async def prewarm(self) -> None:
        with contextlib.suppress(Exception):  # a broken renderer is reported by the tasks
            await anyio.to_thread.run_sync(process_pool.warm, self.characters_file)

    async def render(self, job: RenderJob, progress: Callable[[int, int], None] | None = None) -> float:
        self._sink.target, self._sink.loop = progress, asyncio.get_running_loop()
        started = time.perf_counter()
        try:
            rendered = await anyio.to_thread.run_sync(process_pool.render_job, job)
        finally:
            self._sink.target = None
        if self.metrics is not None:
            self.metrics.observe_render(time.perf_counter() - started, ok=rendered.failure is None)
        if rendered.failure is not None:
            raise TaskFailure(rendered.failure, rendered.message)
        return rendered.duration

    async def aclose(self) -> None:
        pass


class WorkerContext:
    """One worker process's state: store, object store, a `TaskRunner` on its own event loop thread."""

    def __init__(self, settings: Settings, options: WorkerOptions) -> None:
        from a2v_spec import load_spec
        from mock_server.errors import Errors
        from mock_server.tasks.audio_fetch import AudioFetcher
        from mock_server.tasks.runner import TaskRunner

        spec = load_spec()
        limits = dataclasses.replace(spec.limits, **settings.limits)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.store = PostgresStore(options.store, min_size=1, max_size=2, retries=8)
        self.files = S3FileStore(
            options.files,
            endpoint_url=options.s3_endpoint_url,
            staging_dir=Path(tempfile.mkdtemp(prefix="a2v-worker-")),
        )
        characters = None if settings.characters_file is None else str(settings.characters_file)
        self.metrics = Metrics()
        self.metrics.identify(replica_name(settings.replica_name), "worker")
        self.metrics.watch(
            counters={
                "a2v_store_round_trips": ("Statements sent to PostgreSQL", lambda: self.store.round_trips),
                "a2v_object_uploads": ("Objects written to the object store", lambda: self.files.uploads),
            }
        )
        self.queue = InlineRenderQueue(characters, self.metrics)
        self._portal_cm = anyio.from_thread.start_blocking_portal(name="a2v-worker-loop")
        self.portal = self._portal_cm.__enter__()

        async def build() -> TaskRunner:
            await self.store.open()
            return TaskRunner(
                tasks=settings.tasks,
                limits=limits,
                store=self.store,
                errors=Errors(spec.errors),
                fetcher=AudioFetcher(
                    limits,
                    HostPolicy.build(
                        open_mode=settings.open_mode,
                        allowed=settings.audio_hosts,
                        listen_host=settings.host,
                        port=settings.port,
                    ),
                    url_rule=spec.url_rule,
                ),
                queue=self.queue,
                files=self.files,
                on_end=lambda task: None,  # the store's outbox carries the callback
                watch_seconds=0.5,  # a task forced to end or reset meanwhile frees this worker soon
            )

        self.runner = self.portal.call(build)
        if settings.prewarm:
            self.portal.call(self.queue.prewarm)
        if options.metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(options.metrics_port, options.metrics_host, registry=self.metrics.registry)

    async def _run(self, message: str) -> str | None:
        video_id = await self.store.claim_render(message, self.name)
        if video_id is None:
            return None  # no task waits: earlier messages ran them all (or a reset deleted them)
        await self.runner._run(video_id)
        return video_id

    def run(self, message: str) -> str | None:
        """Take one render turn for `message` (the video id the message carries): run the fairest
        waiting task, or the one this message already holds, to its end (or its deadline). Returns the
        task run, None if none waited; raises ServiceUnavailable if the store stays away."""
        return self.portal.call(self._run, message)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.portal.call(self.runner.fetcher.aclose)
            self.portal.call(self.store.aclose)
        self._portal_cm.__exit__(None, None, None)


def build_worker_app(settings: Settings, options: WorkerOptions) -> Celery:
    """The Celery app of a worker, with the render task bound to a lazily built `WorkerContext`."""
    app = make_celery(options.queue, options.queue_name)
    lock = threading.Lock()
    holder: dict[str, WorkerContext] = {}

    def context() -> WorkerContext:
        with lock:
            if "ctx" not in holder:
                holder["ctx"] = WorkerContext(settings, options)
            return holder["ctx"]

    @app.task(name=RENDER_TASK, bind=True, max_retries=None)
    def render(self: Task[Any, Any], video_id: str) -> None:
        try:
            ran = context().run(video_id)
        except ServiceUnavailable as err:  # keep the turn: publish it again (same id), then ack this copy
            log.warning("store unavailable during render turn %s; retrying: %s", video_id, err)
            raise self.retry(exc=err, countdown=2) from err
        if ran is not None and ran != video_id:
            log.debug("render turn %s ran task %s (the fairest waiting)", video_id, ran)

    app.a2v_context = context  # for the solo pool's eager start, and tests in this process
    return app


def run_worker(settings: Settings, options: WorkerOptions, loglevel: str = "INFO") -> int:
    """Consume render messages until SIGTERM (warm shutdown: the current render finishes, is stored
    and acknowledged; SIGKILL leaves it unacknowledged, to be redelivered elsewhere)."""
    from mock_server import logs

    # The server's own log format (text or json), so a task's lines carry its video id, tenant label
    # and error code as the replicas' do; Celery keeps its hands off the root logger.
    logs.configure(settings.log_format, settings.log_level)
    app = build_worker_app(settings, options)
    pool = "solo" if options.concurrency == 1 else "prefork"
    if pool == "solo":  # build (and warm) before consuming: no fork follows
        app.a2v_context()
    argv = [
        "worker",
        f"--pool={pool}",
        f"--concurrency={options.concurrency}",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        f"--queues={options.queue_name}",
        f"--hostname=a2v-{os.getpid()}@%h",
    ]
    app.worker_main(argv=argv)
    return 0
