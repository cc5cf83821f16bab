"""The Celery application both sides share: API replicas publish render messages, workers consume them.

Delivery semantics, and the setting that gives each:

- a message is acknowledged only after the task's result is stored and its status moved
  (`task_acks_late`); a worker killed mid-render never acknowledges it, so RabbitMQ hands it to another
  consumer when the dead worker's connection closes (`task_reject_on_worker_lost` does the same when
  only a prefork child dies);
- a worker takes one message at a time (`worker_prefetch_multiplier=1`), so a slow render never holds
  tasks that an idle worker could run;
- the queue is durable and messages persistent, and the broker confirms each publish
  (`confirm_publish`) before the API answers `video.generate`;
- a task rendered twice (redelivery after a crash, or a duplicate publish) stores one result and moves
  forward once: object keys are the video id, and the store's `advance()` is conditional.

Task state lives in the store, never in a Celery result backend (`task_ignore_result`).
"""

from __future__ import annotations

from celery import Celery
from kombu import Queue

__all__ = ["DEFAULT_QUEUE", "RENDER_TASK", "make_celery"]

RENDER_TASK = "a2v.render"
DEFAULT_QUEUE = "a2v-render"


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
