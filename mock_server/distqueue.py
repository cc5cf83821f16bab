"""The API side of the distributed render queue: publish render messages, and keep every task moving.

`submit()` publishes `a2v.render(video_id)` with the broker's confirmation, then records the task as
dispatched. The replicas' sweep (every few seconds, on every replica; row locks keep them apart)
publishes again what was committed but never confirmed (a replica killed between its commit and its
publish, or a broker outage), and ends with 10007 the tasks past their deadline that no worker ended
(no worker running at all, for instance). A task published twice is harmless: it is rendered at most
to one result and moves forward once.

Example::

    queue = CeleryQueue(make_celery("amqp://guest:guest@127.0.0.1:5672/a2v"), store)
    queue.submit(video_id)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import wave
from typing import TYPE_CHECKING

import anyio

from mock_server.celeryapp import RENDER_TASK
from mock_server.errors import TaskFailure
from mock_server.pgstore import StoreUnavailable

if TYPE_CHECKING:
    from pathlib import Path

    from celery import Celery

    from a2v_spec import Limits
    from mock_server.pgstore import PostgresStore
    from mock_server.store import Task
    from mock_server.worker import UploadingRenderer

__all__ = ["CeleryQueue", "QueueUnavailable", "RemoteRunner"]

log = logging.getLogger("mock_server")


class QueueUnavailable(RuntimeError):
    """The broker could not be reached or did not confirm a message."""


class CeleryQueue:
    def __init__(self, app: Celery, store: PostgresStore) -> None:
        self.app = app
        self.store = store
        self.queue_name = str(app.conf.task_default_queue)
        self.published = 0  # messages this process published (the benchmark's per-task cost)

    def publish(self, video_id: str) -> None:
        """Publish one render message and wait for the broker's confirmation."""
        try:
            self.app.send_task(RENDER_TASK, args=[video_id], task_id=video_id)
        except Exception as err:  # kombu raises several types for a lost or refused connection
            raise QueueUnavailable(f"the render queue is unavailable: {type(err).__name__}: {err}") from err
        self.published += 1

    def submit(self, video_id: str) -> None:
        """Publish, then mark dispatched. If publishing fails the task stays undispatched and a sweep
        publishes it later; the caller may still answer (the task is committed)."""
        self.publish(video_id)
        self.store.mark_dispatched(video_id)

    def sweep(self, undispatched_after: float, deadline_seconds: float) -> tuple[int, list[str]]:
        """Publish tasks never confirmed; return (how many, ids past their deadline for the caller to end)."""
        sent = 0
        for video_id in self.store.claim_undispatched(undispatched_after):
            try:
                self.publish(video_id)
                sent += 1
            except QueueUnavailable:
                self.store.release_dispatch(video_id)
                raise
        return sent, self.store.overdue(deadline_seconds)

    def depth(self) -> int:
        """Messages waiting in the queue (not counting those being rendered)."""
        try:
            with self.app.connection_for_write() as conn:
                channel = conn.default_channel
                declared = channel.queue_declare(self.queue_name, passive=True)
                return int(declared.message_count)
        except Exception as err:
            raise QueueUnavailable(f"the render queue is unavailable: {type(err).__name__}: {err}") from err

    def ping(self) -> None:
        """Raise QueueUnavailable unless the broker answers (for `/readyz`)."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception as err:
            raise QueueUnavailable(f"the broker is not reachable: {type(err).__name__}: {err}") from err

    def close(self) -> None:
        self.app.close()


class RemoteRunner:
    """The `TaskRunner` interface of an API replica whose renders run on `a2v-mock worker`s.

    `start()` publishes (the task row is already committed); `end()` moves the task in the store, whose
    outbox then carries the callback; `stop()`/`cancel()` have nothing running here to stop (a deleted
    task is skipped by the worker that meets it). A sweep loop republishes unconfirmed tasks and ends
    overdue ones. `render_placeholder()` (the admin API forcing `finished`) renders a short silence on a
    thread of this replica and uploads it, as a worker would.
    """

    def __init__(
        self,
        queue: CeleryQueue,
        store: PostgresStore,
        *,
        deadline_seconds: float,
        renderer: UploadingRenderer,
        tmp_dir: Path,
        limits: Limits,
        characters_file: str | None,
        sweep_seconds: float = 5.0,
    ) -> None:
        self.queue = queue
        self.store = store
        self.deadline_seconds = deadline_seconds
        self.renderer = renderer
        self.tmp_dir = tmp_dir
        self.limits = limits
        self.characters_file = characters_file
        self.sweep_seconds = sweep_seconds
        self.running: dict[str, asyncio.Task[None]] = {}  # nothing runs here; kept for the interface
        self._sweeper: asyncio.Task[None] | None = None
        tmp_dir.mkdir(parents=True, exist_ok=True)

    def recover(self) -> int:
        """Start the sweep loop (it republishes what no replica confirmed); returns 0."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_loop(), name="a2v-queue-sweep")
        return 0

    def start(self, video_id: str) -> None:
        try:
            self.queue.submit(video_id)
        except QueueUnavailable as err:  # committed: a sweep publishes it once the broker is back
            log.warning("task %s accepted but not yet queued: %s", video_id, err)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sweeper
            self._sweeper = None

    async def cancel(self, video_id: str) -> None:
        pass

    async def end(
        self, video_id: str, status: str, error: tuple[int, str] | None = None, duration: float | None = None
    ) -> Task | None:
        return self.store.advance(video_id, status, error=error, duration=duration)

    def has_files(self, video_id: str) -> bool:
        files = self.renderer.files
        return files.exists(f"videos/{video_id}.mp4") and files.exists(f"videos/{video_id}.mask.mp4")

    async def render_placeholder(self, video_id: str, seconds: float) -> float:
        from mock_server.renderpool import RenderJob

        audio = self.tmp_dir / f"{video_id}.silence.wav"
        seconds = max(0.2, seconds)
        with wave.open(str(audio), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(16000)
            handle.writeframes(b"\0\0" * int(16000 * seconds))
        job = RenderJob(
            job_id=video_id,
            audio=str(audio),
            model_id=self._model_of(video_id),
            output=str(self.tmp_dir / f"{video_id}.mp4"),
            mask_output=str(self.tmp_dir / f"{video_id}.mask.mp4"),
            size=self.limits.video_size,
            fps=self.limits.video_fps,
            min_duration=0.0,
            max_duration=3600.0,
            characters_file=self.characters_file,
        )
        try:
            return round(await self.renderer.render(job), 3)
        finally:
            audio.unlink(missing_ok=True)

    def _model_of(self, video_id: str) -> str:
        task = self.store.get_task(video_id)
        if task is None:
            raise TaskFailure(1500, f"unknown task {video_id}")
        return task.model_id

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            try:
                _, overdue = await anyio.to_thread.run_sync(
                    self.queue.sweep, self.sweep_seconds, self.deadline_seconds
                )
                for video_id in overdue:
                    message = f"task did not end within {self.deadline_seconds:g} s and was stopped"
                    self.store.advance(video_id, "error", error=(10007, message))
            except (QueueUnavailable, StoreUnavailable) as err:
                log.warning("queue sweep skipped: %s", err)
