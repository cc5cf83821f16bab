"""Callback deliveries from the store's outbox, by whichever replica locks each one first.

Ending a task writes its delivery row (`PostgresStore.advance`). Every replica runs a few delivery loops;
each loop locks one due row with `FOR UPDATE SKIP LOCKED`, posts the signed callback while holding the
lock, and commits the outcome (delivered, or retrying at `next_at` with exponential back-off, or failed
after `callback_attempts`) as it releases it. So exactly one replica posts a given attempt; a replica
killed mid-post releases its lock with its connection and the attempt is made again by another, with the
same `X-A2V-Delivery` id for the receiver to recognise. Headers and body are those of `CallbackSender`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

import httpx

from a2v_spec import ErrorCode
from mock_server.callbacks import REFUSED, callback_client, post_capped, sign
from mock_server.egress import HostRefused
from mock_server.errors import ServiceUnavailable, envelope_bytes
from mock_server.store import DeliveryState

if TYPE_CHECKING:
    from mock_server.config import Settings
    from mock_server.egress import HostPolicy
    from mock_server.store.postgres import PostgresStore
    from mock_server.store.protocol import Delivery, Task
    from mock_server.views import VideoViews

__all__ = ["OutboxDeliverer"]

log = logging.getLogger("mock_server")


class OutboxDeliverer:
    def __init__(
        self,
        settings: Settings,
        store: PostgresStore,
        views: VideoViews,
        policy: HostPolicy,
        *,
        loops: int = 2,
        idle_seconds: float = 0.5,
    ) -> None:
        self.settings = settings
        self.store = store
        self.views = views
        self.loops = loops
        self.idle_seconds = idle_seconds
        #: The same guarded client as `CallbackSender`: the egress policy decides which hosts it reaches.
        self.client = callback_client(settings, policy)
        self.delivered = 0
        self._jobs: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self) -> None:
        self._jobs = [asyncio.create_task(self._loop(), name=f"a2v-outbox-{i}") for i in range(self.loops)]

    async def aclose(self) -> None:
        """Let each loop finish the delivery it holds (up to the callback timeout), then stop."""
        self._stopping = True
        if self._jobs:
            await asyncio.wait(self._jobs, timeout=self.settings.callback_timeout_seconds + 1)
        for job in self._jobs:
            job.cancel()
        for job in self._jobs:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        self._jobs = []
        await self.client.aclose()

    # The `CallbackSender` interface: ending a task already wrote its outbox row.
    def schedule(self, task: Task, record: Delivery | None = None) -> None:
        pass

    def idle(self) -> bool:
        return True

    async def resume(self) -> int:
        """Start the delivery loops (they go on with whatever is due, from any earlier run)."""
        if not self._jobs:
            self.start()
        return 0

    def body_of(self, task: Task) -> bytes:
        base = task.plan.base_url or f"http://{self.settings.host}:{self.settings.port}"
        return envelope_bytes(ErrorCode.SUCCESS, "success", self.views.video(task, base))

    async def _loop(self) -> None:
        while not self._stopping:
            try:
                worked = await self.deliver_one()
            except ServiceUnavailable as err:
                log.warning("callback outbox: %s", err)
                worked = False
            if not worked and not self._stopping:
                await asyncio.sleep(self.idle_seconds)

    async def deliver_one(self) -> bool:
        """Lock, post and record one due delivery; False when none was due."""
        async with self.store.claim_delivery() as record:
            if record is None:
                return False
            task = await self.store.get_task(record["video_id"])
            now = time.time()
            if task is None or not task.callback_url:
                record.update(state=DeliveryState.FAILED, last_error="the task is gone", updated_at=now)
                return True
            body = self.body_of(task)
            attempt = int(record["attempts"]) + 1
            stamp = int(now)
            headers = {
                "Content-Type": "application/json",
                "X-A2V-Signature": sign(task.token, body, stamp),
                "X-A2V-Delivery": record["delivery_id"],
                "X-A2V-Event": record["event"],
                "User-Agent": "a2v-mock/1.0",
            }
            try:
                status = await post_capped(self.client, task.callback_url, body, headers)
                error, ok = None, 200 <= status < 300
            except HostRefused:
                # Final at once, as `CallbackSender` does: a refused host stays refused.
                record.update(state=DeliveryState.FAILED, last_error=REFUSED, updated_at=now)
                return True
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as err:
                status, error, ok = None, type(err).__name__, False
            last = attempt >= self.settings.callback_attempts
            record.update(
                attempts=attempt,
                last_status=status,
                last_error=error,
                state=DeliveryState.DELIVERED
                if ok
                else (DeliveryState.FAILED if last else DeliveryState.RETRYING),
                updated_at=time.time(),
                next_at=time.time() + self.settings.callback_backoff_seconds * 2 ** (attempt - 1),
            )
            if ok:
                self.delivered += 1
            elif last:
                log.warning(
                    "callback for %s to %s failed after %d attempts",
                    task.video_id,
                    task.callback_url,
                    attempt,
                )
            return True
