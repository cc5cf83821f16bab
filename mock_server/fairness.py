"""Render slots shared fairly between tenants: round-robin over tenants, first come first served within
one.

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
    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a gate needs at least one slot, got {slots}")
        self.free = slots
        #: tenant -> its waiters, in the order tenants take turns (a served tenant moves to the end).
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    @contextlib.asynccontextmanager
    async def slot(self, tenant: str) -> AsyncIterator[None]:
        if self.free > 0 and not self._waiting:
            self.free -= 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.setdefault(tenant, deque()).append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._release()  # granted just as it was cancelled: pass the slot on
                else:
                    self._forget(tenant, turn)
                raise
        try:
            yield
        finally:
            self._release()

    def _forget(self, tenant: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(tenant)
        if queue is not None:
            with contextlib.suppress(ValueError):
                queue.remove(turn)
            if not queue:
                del self._waiting[tenant]

    def _release(self) -> None:
        while self._waiting:
            tenant = next(iter(self._waiting))
            queue = self._waiting.pop(tenant)
            turn = queue.popleft()
            if queue:
                self._waiting[tenant] = queue  # back of the line
            if not turn.done():
                turn.set_result(None)
                return
        self.free += 1
