"""Faults that need the server underneath the app, behind one small interface (WireMock's FaultInjector).

The scenario decides *when* (latency, `drop_rate`); a `FaultInjector` knows *how* on the server the app
runs in. `UvicornFaultInjector` closes the connection's transport, which uvicorn's protocol objects
expose through the bound `send` they hand the app; with no socket (an in-process transport) it raises
`DroppedConnection`, which in-process clients turn into the error a real client would see.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DroppedConnection", "FaultInjector", "RawSendKeeper", "UvicornFaultInjector"]

_RAW_SEND = "a2v.raw_send"


class DroppedConnection(ConnectionError):
    """The scenario dropped this request's connection (raised where there is no socket to close)."""


class FaultInjector(Protocol):
    async def drop_connection(self, scope: Scope) -> None:
        """Close the request's connection without an answer."""
        ...


class RawSendKeeper:
    """Outermost layer: keeps the server's own `send` in the scope for the injector."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[_RAW_SEND] = send
        await self.app(scope, receive, send)


class UvicornFaultInjector:
    async def drop_connection(self, scope: Scope) -> None:
        raw_send = scope.get(_RAW_SEND)
        transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
        if transport is None:
            raise DroppedConnection("connection dropped by the mock's scenario (drop_rate)")
        transport.close()
        for _ in range(3):  # let the server see the connection is gone before the app returns
            await asyncio.sleep(0)
