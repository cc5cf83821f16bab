"""Callback deliveries from the store's outbox, by whichever replica locks each one first.

Ending a task writes its delivery row (`PostgresStore.advance`). Every replica runs a few delivery loops;
each loop locks one due row with `FOR UPDATE SKIP LOCKED`, posts the signed callback while holding the
lock, and commits the outcome (delivered, or retrying at `next_at` with exponential back-off, or failed
after `callback_attempts`) as it releases it. So exactly one replica posts a given attempt; a replica
killed mid-post releases its lock with its connection and the attempt is made again by another, with the
same `X-A2V-Delivery` id for the receiver to recognise. Headers and body are those of `CallbackSender`.

Each attempt ends within `callback_timeout_seconds` in total (`post_capped`), and one tenant has at
most `per_tenant` deliveries under way in a replica (its others are skipped by the claim), so one
tenant's slow receivers cannot hold every loop of the replica while other tenants' deliveries wait.

Idle loops do not poll. A trigger announces each delivery written (`NOTIFY`, sent as the task's end
commits) and one listening connection per replica wakes that replica's loops at once; a loop with
nothing due sleeps until the next retry falls due or, at most, `outbox_poll_seconds` (the slow look
that finds what a dropped listening connection missed, or a delivery whose holder died). A dropped
listening connection is made again, with back-off, and the loops look once it listens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx

from mock_server.errors import ServiceUnavailable
from mock_server.store import DeliveryState
from mock_server.tasks.callbacks import (
    REFUSED,
    TenantSlots,
    callback_body,
    callback_client,
    callback_headers,
    post_capped,
)
from mock_server.tasks.egress import HostRefused, HostUnresolved

if TYPE_CHECKING:
    from mock_server.config import CallbackSettings
    from mock_server.scale.postgres.store import PostgresStore
    from mock_server.store.protocol import Delivery, Task
    from mock_server.tasks.egress import HostPolicy
    from mock_server.tasks.video_objects import VideoViews

__all__ = ["OutboxDeliverer"]

log = logging.getLogger("mock_server")


class OutboxDeliverer:
    def __init__(
        self,
        settings: CallbackSettings,
        store: PostgresStore,
        views: VideoViews,
        policy: HostPolicy,
        *,
        loops: int = 2,
        per_tenant: int | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.views = views
        self.loops = loops
        #: One tenant's deliveries under way in this replica (default: half the loops, at least one).
        self.slots = TenantSlots(per_tenant or max(1, loops // 2))
        #: Set when a loop found only skipped tenants' deliveries due: wake it when one ends.
        self._held_back = False
        self.poll_seconds = settings.outbox_poll_seconds
        #: The same guarded client as `CallbackSender`: the egress policy decides which hosts it reaches.
        self.client = callback_client(settings, policy)
        self.delivered = 0
        #: Deliveries announced to this replica, and the backend pid of its listening connection (None
        #: while it is not listening).
        self.notices = 0
        self.listener_pid: int | None = None
        #: One per loop: set to wake it; `_asleep[i]` while loop i waits.
        self._wakes = [asyncio.Event() for _ in range(loops)]
        self._asleep = [False] * loops
        self._jobs: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._listener = asyncio.create_task(self._listen(), name="a2v-outbox-listen")
        self._jobs = [asyncio.create_task(self._loop(i), name=f"a2v-outbox-{i}") for i in range(self.loops)]

    def sleeping(self) -> bool:
        """True when every loop waits and nothing has woken one yet (nothing is being delivered)."""
        return all(self._asleep) and not any(wake.is_set() for wake in self._wakes)

    def _wake_all(self) -> None:
        for wake in self._wakes:
            wake.set()

    async def aclose(self) -> None:
        """Let each loop finish the delivery it holds (up to the callback timeout), then stop."""
        self._stopping = True
        self._wake_all()  # idle loops stop now
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        if self._jobs:
            await asyncio.wait(self._jobs, timeout=self.settings.timeout_seconds + 1)
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

    async def _listen(self) -> None:
        """Keep one listening connection; after a drop, connect again (0.1 s, doubling up to the poll)."""
        delay = 0.1

        def listening(pid: int) -> None:
            nonlocal delay
            delay, self.listener_pid = 0.1, pid
            self._wake_all()  # what was written while nobody listened was not announced: look now

        def notice() -> None:
            self.notices += 1
            self._wake_all()

        while not self._stopping:
            try:
                await self.store.listen_outbox(listening, notice)
            except ServiceUnavailable as err:
                log.warning("callback outbox: %s; listening again in %.1f s", err, delay)
            except Exception:  # never leave the replica deaf: log it, listen again
                log.exception("callback outbox: listening failed; again in %.1f s", delay)
            self.listener_pid = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.poll_seconds)

    async def _loop(self, index: int) -> None:
        wake = self._wakes[index]
        while not self._stopping:
            # Cleared before looking: a notice that comes while this loop looks wakes its next wait.
            wake.clear()
            try:
                wait = 0.0 if await self.deliver_one() else await self._until_due()
            except ServiceUnavailable as err:
                log.warning("callback outbox: %s", err)
                wait = min(1.0, self.poll_seconds)
            if wait > 0 and not self._stopping:
                self._asleep[index] = True
                try:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), wait)
                finally:
                    self._asleep[index] = False

    async def _until_due(self) -> float:
        """How long an idle loop may sleep: until the next retry is due, at most `poll_seconds`."""
        due = await self.store.next_delivery_in()
        return self.poll_seconds if due is None else min(self.poll_seconds, max(due, 0.001))

    async def deliver_one(self) -> bool:
        """Lock, post and record one due delivery; False when none was due (of a tenant with a turn
        free: the others are skipped)."""
        skip = self.slots.full()
        async with self.store.claim_delivery(skip) as record:
            if record is None:
                self._held_back = self._held_back or bool(skip)
                return False
            tenant = str(record["tenant"])
            if self.slots.in_flight(tenant) >= self.slots.limit:
                # Another loop took this tenant's last turn while this one claimed: let the row go
                # unchanged and look again at once, skipping the tenant.
                self._held_back = True
                return True
            async with self.slots.slot(tenant):
                delivered = await self._attempt(record)
        if self._held_back:  # a tenant's turn is free again: loops that skipped it look now
            self._held_back = False
            self._wake_all()
        return delivered

    async def _attempt(self, record: dict[str, Any]) -> bool:
        """Post one attempt of the claimed `record` and update it (committed as the claim ends)."""
        task = await self.store.get_task(record["video_id"])
        now = time.time()
        if task is None or not task.callback_url:
            record.update(state=DeliveryState.FAILED, last_error="the task is gone", updated_at=now)
            return True
        body = callback_body(task, self.settings, self.views)
        attempt = int(record["attempts"]) + 1
        headers = callback_headers(task.token, body, record, int(now))
        try:
            status = await post_capped(
                self.client, task.callback_url, body, headers, self.settings.timeout_seconds
            )
            error, ok = None, 200 <= status < 300
        except HostUnresolved:  # worded as a refusal, but retried, as `CallbackSender` does
            status, error, ok = None, REFUSED, False
        except HostRefused:
            # Final at once, as `CallbackSender` does: a refused host stays refused.
            record.update(state=DeliveryState.FAILED, last_error=REFUSED, updated_at=now)
            return True
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as err:
            status, error, ok = None, type(err).__name__, False
        last = attempt >= self.settings.attempts
        record.update(
            attempts=attempt,
            last_status=status,
            last_error=error,
            state=DeliveryState.DELIVERED
            if ok
            else (DeliveryState.FAILED if last else DeliveryState.RETRYING),
            updated_at=time.time(),
            next_at=time.time() + self.settings.backoff_seconds * 2 ** (attempt - 1),
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
