"""Signed `videoEnded` callbacks, retried with exponential back-off, recorded for the admin API.

Per the spec: `X-A2V-Signature: t=<unix>,v1=<hex HMAC-SHA256(token, "<t>.<body>")>`, an
`X-A2V-Delivery` id that stays the same across retries, `X-A2V-Event: video.finished|video.error`, and
the body `video.get` would answer at that moment.

A receiver chosen by a tenant must not hold the mock's sockets: each attempt has a total deadline,
`callback_timeout_seconds` from connecting to the last byte read (`post_capped`; httpx's timeouts are
per read, so a receiver sending a header byte every 2 s was never cut off), and one tenant has at most
`TENANT_IN_FLIGHT` attempts under way at once (`TenantSlots`); its other deliveries wait, holding
nothing, while every other tenant's go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from a2v_spec import ErrorCode
from mock_server.errors import envelope_bytes
from mock_server.logs import task_event
from mock_server.store import DeliveryState
from mock_server.tasks.background import spawn
from mock_server.tasks.egress import HostRefused, HostUnresolved, guarded_transport

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from mock_server.config import CallbackSettings
    from mock_server.store import Delivery, Store, Task
    from mock_server.tasks.egress import HostPolicy
    from mock_server.tasks.video_objects import VideoViews

__all__ = [
    "REFUSED",
    "TENANT_IN_FLIGHT",
    "AttemptTimedOut",
    "CallbackSender",
    "TenantSlots",
    "callback_body",
    "callback_client",
    "callback_headers",
    "post_capped",
    "sign",
]

log = logging.getLogger("mock_server")

#: Bytes of a receiver's answer read at most: only its status matters, so a huge answer costs nothing.
RESPONSE_READ_CAP = 4096
#: The only thing a refused delivery records: no address, no reason a scanner could use.
REFUSED = "callback_url host is not allowed"
#: Attempts one tenant may have under way at once, in one process (the others wait their turn).
TENANT_IN_FLIGHT = 4


class AttemptTimedOut(httpx.TimeoutException):
    """An attempt that did not end within its total deadline (recorded as its `last_error`)."""


class TenantSlots:
    """At most `limit` attempts under way per tenant; a tenant's next one waits for one of its own.

    Example:
        >>> slots = TenantSlots(2)
        >>> async def attempt(tenant: str) -> None:                             # doctest: +SKIP
        ...     async with slots.slot(tenant):
        ...         ...
    """

    def __init__(self, limit: int = TENANT_IN_FLIGHT) -> None:
        if limit < 1:
            raise ValueError(f"a tenant needs at least one delivery slot, got {limit}")
        self.limit = limit
        #: tenant -> its gate (dropped once nobody holds or waits for it: the table never grows).
        self._tenants: dict[str, _Gate] = {}

    def in_flight(self, tenant: str) -> int:
        gate = self._tenants.get(tenant)
        return 0 if gate is None else gate.holding

    def full(self) -> set[str]:
        """The tenants whose every slot is taken."""
        return {tenant for tenant, gate in self._tenants.items() if gate.holding >= self.limit}

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        gate = self._tenants.get(tenant)
        if gate is None:
            gate = self._tenants[tenant] = _Gate(asyncio.Semaphore(self.limit))
        gate.users += 1
        try:
            async with gate.semaphore:
                gate.holding += 1
                try:
                    yield
                finally:
                    gate.holding -= 1
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self._tenants[tenant]


@dataclass
class _Gate:
    semaphore: asyncio.Semaphore
    #: Attempts holding a slot, and attempts holding or waiting for one.
    holding: int = 0
    users: int = 0


def sign(token: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(token.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def callback_body(task: Task, settings: CallbackSettings, views: VideoViews) -> bytes:
    """The body every sender posts: the task's video as `video.detail` answers it."""
    base = task.plan.base_url or settings.base_url
    return envelope_bytes(ErrorCode.SUCCESS, "success", views.video(task, base))


def callback_headers(token: str, body: bytes, record: Delivery, stamp: int) -> dict[str, str]:
    """The headers of one attempt of `record`, signed at `stamp`, whichever sender makes it."""
    return {
        "Content-Type": "application/json",
        "X-A2V-Signature": sign(token, body, stamp),
        "X-A2V-Delivery": record["delivery_id"],
        "X-A2V-Event": record["event"],
        "User-Agent": "a2v-mock/1.0",
    }


def callback_client(settings: CallbackSettings, policy: HostPolicy) -> httpx.AsyncClient:
    """The client every callback goes out through, whichever replica sends it: the egress policy in the
    connection layer (never the mock itself, link-local, or in keyed mode an unlisted private host), no
    redirects, no proxy from the environment."""
    return httpx.AsyncClient(
        transport=guarded_transport(policy),
        timeout=settings.timeout_seconds,
        trust_env=False,
        follow_redirects=False,
    )


async def post_capped(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], deadline: float
) -> int:
    """POST and return the status, reading at most `RESPONSE_READ_CAP` bytes of the answer (its status
    is what matters; a receiver answering gigabytes must not fill the server's memory), all within
    `deadline` seconds (a receiver trickling its answer is cut off: `AttemptTimedOut`)."""
    try:
        async with (
            asyncio.timeout(deadline),
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= RESPONSE_READ_CAP:
                    break
            return response.status_code
    except TimeoutError as err:
        raise AttemptTimedOut(f"the attempt did not end within {deadline:g} s") from err


class CallbackSender:
    def __init__(
        self,
        settings: CallbackSettings,
        store: Store,
        views: VideoViews,
        policy: HostPolicy,
    ) -> None:
        #: Its section of the settings only (attempts, backoff, timeout): `--reload` hands it a new one.
        self.settings = settings
        self.store = store
        self.views = views
        self.client = callback_client(settings, policy)
        self._pending: set[asyncio.Task[None]] = set()
        #: One tenant's attempts under way at once (a tenant's slow receivers hold its own turns only).
        self.slots = TenantSlots()

    async def aclose(self) -> None:
        for job in list(self._pending):
            job.cancel()
        for job in list(self._pending):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job
        await self.client.aclose()

    def schedule(self, task: Task, record: Delivery | None = None) -> None:
        if not task.callback_url:
            return
        job = spawn(self._deliver(task, record), f"callback-{task.video_id}")
        self._pending.add(job)
        job.add_done_callback(self._pending.discard)

    def idle(self) -> bool:
        """True when no delivery is under way (each ends delivered or failed, or is cancelled)."""
        return not self._pending

    async def resume(self) -> int:
        """Go on with deliveries a previous run left unfinished (same delivery id, attempts kept)."""
        resumed = 0
        for record in await self.store.deliveries():
            if not DeliveryState(record["state"]).is_final:
                task = await self.store.get_task(record["video_id"])
                if task is not None and task.terminal:
                    self.schedule(task, record)
                    resumed += 1
        return resumed

    async def _deliver(self, task: Task, resumed: Delivery | None = None) -> None:
        assert task.callback_url is not None  # checked by schedule()
        now = time.time()
        record: Delivery = resumed or {
            "delivery_id": uuid.uuid4().hex,
            "video_id": task.video_id,
            "tenant": task.tenant,
            "url": task.callback_url,
            "event": f"video.{task.status}",
            "attempts": 0,
            "last_status": None,
            "last_error": None,
            "state": DeliveryState.PENDING,
            "created_at": now,
            "updated_at": now,
        }
        await self.store.save_delivery(record)
        if record["attempts"] >= self.settings.attempts:
            record.update(state=DeliveryState.FAILED, updated_at=time.time())
            await self.store.save_delivery(record)
            return
        body = callback_body(task, self.settings, self.views)
        for attempt in range(record["attempts"] + 1, self.settings.attempts + 1):
            record["attempts"] = attempt
            try:
                async with self.slots.slot(task.tenant):
                    headers = callback_headers(task.token, body, record, int(time.time()))
                    status = await post_capped(
                        self.client, task.callback_url, body, headers, self.settings.timeout_seconds
                    )
                record["last_status"], record["last_error"] = status, None
                ok = 200 <= status < 300
            except HostUnresolved:  # worded as a refusal, but retried: a name may resolve later
                record["last_status"], record["last_error"], ok = None, REFUSED, False
            except HostRefused:
                # Final at once: a refused host stays refused, and retrying would only time a scan.
                record.update(last_status=None, last_error=REFUSED, state=DeliveryState.FAILED)
                record["updated_at"] = time.time()
                await self.store.save_delivery(record)
                return
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as err:
                record["last_status"], record["last_error"], ok = None, type(err).__name__, False
            if ok:
                record["state"] = DeliveryState.DELIVERED
            elif attempt == self.settings.attempts:
                record["state"] = DeliveryState.FAILED
            else:
                record["state"] = DeliveryState.RETRYING
            record["updated_at"] = time.time()
            await self.store.save_delivery(record)
            event = "callback_delivered" if ok else "callback_failed"
            task_event(
                event,
                task.video_id,
                task.tenant,
                url=task.callback_url,
                attempt=attempt,
                http_status=record["last_status"],
                error=record["last_error"],
                retry=None if ok else record["state"] is DeliveryState.RETRYING,
            )
            if ok:
                return
            if attempt < self.settings.attempts:
                await asyncio.sleep(self.settings.backoff_seconds * 2 ** (attempt - 1))
        log.warning(
            "callback for %s to %s failed after %d attempts",
            task.video_id,
            task.callback_url,
            record["attempts"],
        )
