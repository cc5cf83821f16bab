"""The API's routing table, (method, path) -> operation, built once from the spec.

One decision per request, as Prism's router makes it: the operation, or a named error saying why not:
`NoOperation` (1007) when nothing is served at the path, `MethodNotAllowed` (1006, with `Allow`) when
the path exists with other methods. `ApiRoute` puts the whole `/v1/` surface into Starlette's router as
one route, so the router never decides a 404 or 405 for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute, Match

from mock_server.errors import MethodNotAllowed, NoOperation

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from a2v_spec import Operation, Spec

__all__ = ["ApiRoute", "OperationTable"]


class OperationTable:
    def __init__(self, spec: Spec) -> None:
        self._ops = {(op.method.upper(), op.path): op for op in spec.operations.values()}
        self._allowed: dict[str, set[str]] = {}
        for method, path in self._ops:
            self._allowed.setdefault(path, set()).add(method)

    def find(self, method: str, path: str) -> Operation:
        """The operation at `method` `path`, or the named error that says why there is none."""
        op = self._ops.get((method, path))
        if op is not None:
            return op
        allowed = self._allowed.get(path)
        if allowed:
            raise MethodNotAllowed(method, path, allowed)
        raise NoOperation(path)


class ApiRoute(BaseRoute):
    """Every request under `prefix`, whatever its method, goes to `app` (which routes by the spec)."""

    def __init__(self, prefix: str, app: ASGIApp) -> None:
        self.prefix = prefix
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
