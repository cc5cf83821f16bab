"""Faults that need the server underneath the app, behind one small interface (WireMock's FaultInjector).

The scenario decides *when* (latency, `drop_rate`); a `FaultInjector` knows *how* on the server the app
runs in. The request path hands it the request and the server's own `send` (the pipeline is the first
thing under the server, so nothing wraps it). `UvicornFaultInjector` closes the connection's transport,
which uvicorn's request cycle (the `send` is its bound method) holds, for either of its HTTP protocols;
with no socket (an in-process transport) it raises `DroppedConnection`, which in-process clients turn
into the error a real client would see.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from starlette.types import Scope, Send

__all__ = ["DroppedConnection", "FaultInjector", "UvicornFaultInjector"]


class DroppedConnection(ConnectionError):
    """The scenario dropped this request's connection (raised where there is no socket to close)."""


class FaultInjector(Protocol):
    async def drop_connection(self, scope: Scope, send: Send) -> None:
        """Close the connection of the request `scope` (answered through the server's `send`)."""
        ...


class UvicornFaultInjector:
    async def drop_connection(self, scope: Scope, send: Send) -> None:
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is None:
            raise DroppedConnection("connection dropped by the mock's scenario (drop_rate)")
        transport.close()
        for _ in range(3):  # let the server see the connection is gone before the app returns
            await asyncio.sleep(0)
