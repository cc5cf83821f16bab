"""Render and download slots shared fairly between tenants: round-robin over tenants, first come first
served within one, and (downloads) at most a share of the slots per tenant.

A plain FIFO lets a tenant that submits 64 tasks keep every render worker busy until they are all done;
with `FairGate` the next free slot goes to the next tenant in turn that is waiting, so another tenant's
one task waits for at most one render per worker, not for the whole flood.

Example:
    >>> gate = FairGate(2)
    >>> async def render(tenant: str) -> None:                                  # doctest: +SKIP
    ...     async with gate.slot(tenant):
    ...         ...
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

__all__ = ["FairGate"]


class FairGate:
    """`slots` slots; with `per_tenant`, no tenant holds more than that many at once (its next waits even
    when a slot is free, so a tenant flooding the gate with hanging work leaves the rest to others)."""

    def __init__(self, slots: int, per_tenant: int | None = None) -> None:
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, got {slots}")
        if per_tenant is not None and per_tenant < 1:
            raise ValueError(f"a tenant's share of a gate must be at least one slot, got {per_tenant}")
        self.free = slots
        self.per_tenant = per_tenant
        #: tenant -> its waiters, in the order tenants take turns (a served tenant moves to the end).
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        #: tenant -> slots it holds (no entry at zero: the table holds only tenants at work).
        self._held: dict[str, int] = {}

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def held(self, tenant: str) -> int:
        return self._held.get(tenant, 0)

    def _may(self, tenant: str) -> bool:
        return self.per_tenant is None or self._held.get(tenant, 0) < self.per_tenant

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        if self.free > 0 and self._may(tenant) and not any(self._may(t) for t in self._waiting):
            self._take(tenant)
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(tenant, deque()).append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release(tenant)  # granted just as it was cancelled: pass the slot on
                else:
                    self._forget(tenant, turn)
                raise
        try:
            yield
        finally:
            self._release(tenant)

    def _take(self, tenant: str) -> None:
        self.free -= 1
        self._held[tenant] = self._held.get(tenant, 0) + 1

    def _forget(self, tenant: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(tenant)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(turn)
            if not queue:
                del self._waiting[tenant]

    def _release(self, tenant: str) -> None:
        left = self._held.get(tenant, 0) - 1
        if left > 0:
            self._held[tenant] = left
        else:
            self._held.pop(tenant, None)
        self.free += 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Free slots to the next tenants in turn that may take one (the served tenant to the end)."""
        while self.free > 0:
            tenant = next((t for t in self._waiting if self._may(t)), None)
            if tenant is None:
                return
            queue = self._waiting.pop(tenant)
            turn = queue.popleft()
            if queue:
                self._waiting[tenant] = queue  # back of the line
            if not turn.done():
                self._take(tenant)
                turn.set_result(None)
