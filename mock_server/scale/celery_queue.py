"""The distributed render queue: Celery on RabbitMQ (`--queue amqp://...`), the API replicas' side.

Why the whole task, not only its render, goes to a worker: the embedded `TaskRunner` lives in the
process that accepted the task, and a replica may be killed or rolled at any moment. So a replica only
commits the task and publishes `a2v.render(video_id)`; an `a2v-mock worker` runs a task's whole
state machine (wait, fetch, render, upload, end) against the shared store. A replica never holds a task.

A message is one render turn, not a task: the worker that receives it runs the fairest waiting task of
the cluster (`scale/postgres/fair_claims.py`), so the broker's first-in-first-out order cannot let one
tenant's flood hold back every other tenant.

Delivery semantics, and the Celery setting behind each (`make_celery`):

- a message is acknowledged only after the task's result is stored and its status moved
  (`task_acks_late`); a worker killed mid-render never acknowledges it, and RabbitMQ hands it to
  another consumer when the dead worker's connection closes (`task_reject_on_worker_lost` does the
  same when only a prefork child dies);
- one message at a time per worker process (`worker_prefetch_multiplier=1`): a slow render never
  holds tasks an idle worker could run;
- durable queue, persistent messages, publisher confirms (`confirm_publish`): `video.generate`
  answers after the broker has the message;
- rendered twice (a redelivery, a duplicate publish: both resume the task their message claimed)
  stores one result and moves forward once: object keys are the video id and the store's `advance()`
  is conditional.

Task state lives in the store, never in a Celery result backend (`task_ignore_result`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import anyio
from celery import Celery
from kombu import Queue

from a2v_spec import ErrorCode, Status
from mock_server.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mock_server.scale.postgres.store import PostgresStore
    from mock_server.store.protocol import Task
    from mock_server.tasks.runner import TaskRunner

__all__ = ["DEFAULT_QUEUE", "RENDER_TASK", "CeleryQueue", "QueueUnavailable", "RemoteRunner", "make_celery"]

log = logging.getLogger("mock_server")

RENDER_TASK = "a2v.render"
DEFAULT_QUEUE = "a2v-render"


class QueueUnavailable(ServiceUnavailable):
    """The broker could not be reached or did not confirm a message."""


def make_celery(broker_url: str, queue: str = DEFAULT_QUEUE) -> Celery:
    """A Celery app for `broker_url` (e.g. `amqp://guest:guest@127.0.0.1:5672/a2v`)."""
    app = Celery("a2v", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=queue,
        task_queues=[Queue(queue, durable=True)],
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no pidbox queue per worker: nothing here uses it
        broker_connection_retry_on_startup=True,
        broker_transport_options={"confirm_publish": True},
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
    )
    return app


class CeleryQueue:
    """Publishes render messages; reports the queue's depth and the broker's health."""

    def __init__(self, app: Celery, store: PostgresStore) -> None:
        self.app = app
        self.store = store
        self.queue_name = str(app.conf.task_default_queue)
        self.published = 0  # messages this process published (the benchmark's per-task cost)

    def publish(self, video_id: str) -> None:
        """Publish one render message and wait for the broker's confirmation (blocking)."""
        try:
            self.app.send_task(RENDER_TASK, args=[video_id], task_id=video_id)
        except Exception as err:  # kombu raises several types for a lost or refused connection
            raise QueueUnavailable(f"the render queue is unavailable: {type(err).__name__}: {err}") from err
        self.published += 1

    async def submit(self, video_id: str) -> None:
        """Publish, then mark the task dispatched. If publishing fails the task stays undispatched and
        a sweep publishes it later."""
        await anyio.to_thread.run_sync(self.publish, video_id)
        await self.store.mark_dispatched(video_id)

    async def sweep(self, undispatched_after: float) -> int:
        """Publish the tasks committed over `undispatched_after` seconds ago and never confirmed."""
        sent = 0
        for video_id in await self.store.claim_undispatched(undispatched_after):
            try:
                await anyio.to_thread.run_sync(self.publish, video_id)
                sent += 1
            except QueueUnavailable:
                await self.store.release_dispatch(video_id)
                raise
        return sent

    def depth(self) -> int:
        """Messages waiting in the queue, not counting those being rendered (blocking)."""
        try:
            with self.app.connection_for_write() as conn:
                declared = conn.default_channel.queue_declare(self.queue_name, passive=True)
                return int(declared.message_count)
        except Exception as err:
            raise QueueUnavailable(f"the render queue is unavailable: {type(err).__name__}: {err}") from err

    def ping(self) -> None:
        """Raise QueueUnavailable unless the broker answers (blocking; for `/readyz`)."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as err:
            raise QueueUnavailable(f"the broker is not reachable: {type(err).__name__}: {err}") from err

    def close(self) -> None:
        self.app.close()


class RemoteRunner:
    """The `TaskRunner` interface of an API replica whose tasks run on `a2v-mock worker`s.

    `start()` publishes (the task row is already committed); `end()` moves the task in the store, whose
    outbox then carries the callback; nothing runs here, so `stop()` and `cancel()` stop nothing (a
    worker skips a task deleted meanwhile). `recover()` starts the sweep: every `sweep_seconds` it
    publishes what no replica confirmed and ends with 10007 the tasks past their deadline that no worker
    ended (none running, for instance). `render_placeholder()` (the admin API forcing `finished`) uses
    `placeholder`, a `TaskRunner` of this replica with a one-process local pool and the shared file store.
    """

    def __init__(
        self,
        queue: CeleryQueue,
        store: PostgresStore,
        placeholder: TaskRunner,
        *,
        deadline_seconds: float,
        sweep_seconds: float = 5.0,
    ) -> None:
        self.queue = queue
        self.store = store
        self.placeholder = placeholder
        self.deadline_seconds = deadline_seconds
        self.sweep_seconds = sweep_seconds
        self._pending: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def recover(self) -> int:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_loop(), name="a2v-queue-sweep")
        return 0

    def start(self, video_id: str) -> None:
        job = asyncio.create_task(self._submit(video_id), name=f"a2v-publish-{video_id}")
        self._pending.add(job)
        job.add_done_callback(self._pending.discard)

    async def _submit(self, video_id: str) -> None:
        try:
            await self.queue.submit(video_id)
        except ServiceUnavailable as err:  # committed: a sweep publishes it once the broker is back
            log.warning("task %s accepted, not yet queued: %s", video_id, err)

    async def stop(self) -> None:
        """Finish the publishes under way (each is short), stop the sweep."""
        if self._pending:
            await asyncio.wait(list(self._pending), timeout=10)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweeper
            self._sweeper = None

    async def cancel(self, video_id: str) -> None:
        pass

    async def cancel_all(self) -> None:
        """Nothing runs here (a worker drops a task deleted meanwhile); the sweep goes on. (A reset
        used to call `stop()`, which ended this replica's sweep for good.)"""

    async def end(
        self,
        video_id: str,
        status: Status,
        error: tuple[ErrorCode, str] | None = None,
        duration: float | None = None,
    ) -> Task | None:
        return await self.store.advance(video_id, status, error=error, duration=duration)

    async def has_files(self, video_id: str) -> bool:
        return await self.placeholder.has_files(video_id)

    async def render_placeholder(self, video_id: str, seconds: float) -> float:
        return await self.placeholder.render_placeholder(video_id, seconds)

    async def sweep_once(self) -> None:
        await self.queue.sweep(self.sweep_seconds)
        message = f"task did not end within {self.deadline_seconds:g} s and was stopped"
        for video_id in await self.store.overdue(self.deadline_seconds):
            await self.store.advance(video_id, Status.ERROR, error=(ErrorCode.TASK_TIMED_OUT, message))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                await self.sweep_once()
            except ServiceUnavailable as err:
                log.warning("queue sweep skipped: %s", err)
            except Exception:  # one unexpected failure must not end this replica's sweep for good
                log.exception("queue sweep failed; trying again in %g s", self.sweep_seconds)
