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

import logging
from typing import TYPE_CHECKING

from mock_server.celeryapp import RENDER_TASK

if TYPE_CHECKING:
    from celery import Celery

    from mock_server.pgstore import PostgresStore

__all__ = ["CeleryQueue", "QueueUnavailable"]

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
