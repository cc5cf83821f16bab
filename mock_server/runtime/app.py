"""`create_app(settings)`: the mock server as a Starlette application, put together in one place.

    uvicorn -> MockApp (Starlette: `scope["app"]`, the lifespan) -> http.pipeline.Pipeline

The request path itself is `mock_server/http/pipeline.py`, read top to bottom in that file. The spec is
loaded once here (start-up fails if it has no operations); `build_services` builds every service. The
lifespan only starts and stops the services. Run the lifespan when using the app in-process, for
example::

    from mock_server.testing import app_client           # runs the lifespan on a background loop
    with app_client(create_app(Settings(data_dir=tmp))) as client:
        client.get("/v1/ping")

or, with `httpx.AsyncClient(transport=httpx.ASGITransport(app))`, inside
`async with mock_server.testing.lifespan(app):`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from a2v_spec import load_spec
from mock_server import logs
from mock_server.admin import console, docs
from mock_server.admin.endpoints import AdminApi
from mock_server.admin.listings import AdminViews
from mock_server.api import handlers
from mock_server.config import Settings
from mock_server.errors import (
    NoOperation,
)
from mock_server.http.endpoint import ApiEndpoint
from mock_server.http.pipeline import Pipeline
from mock_server.runtime.services import Services, build_services
from mock_server.tasks.samples import Samples

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from a2v_spec import Spec

__all__ = ["MockApp", "create_app"]

log = logging.getLogger("mock_server")

_FILE_NAME = re.compile(r"^(videos|previews|uploads)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")


class MockApp(Starlette):
    """Starlette with the mock's own request path (`build_middleware_stack` returns the `Pipeline`)."""

    def __init__(self, services: Services, routes: list[BaseRoute]) -> None:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            await services.start()
            try:
                yield
            finally:
                await services.aclose()
                logs.flush()  # every request line written before the server says it stopped

        super().__init__(routes=routes, lifespan=lifespan)
        self.services = services

    def build_middleware_stack(self) -> ASGIApp:
        """The request path: one pipeline (see `Pipeline`), the router behind it for what is not API."""
        s = self.services
        return Pipeline(s, self.router, ApiEndpoint(s.table, s.validator, s.errors, s))


def _files_endpoint(services: Services) -> Route:
    async def files(request: Request) -> Response:
        name = request.path_params["name"]
        if not _FILE_NAME.match(name) or ".." in name:
            raise NoOperation(f"/files/{name}", "read the video again for a fresh URL")
        q = request.query_params
        services.signer.verify(f"/files/{name}", q.get("Expires"), q.get("Signature"))
        if name.startswith("previews/"):
            await services.characters.ensure_preview(name.removeprefix("previews/").removesuffix(".png"))
        return await services.files.response(request, name)

    return Route("/files/{name:path}", files, methods=["GET", "HEAD"])


def create_app(settings: Settings | None = None, spec: Spec | None = None) -> MockApp:
    """Build the mock server for `settings` (default `Settings()`)."""
    settings = settings or Settings()
    spec = spec or load_spec()
    missing = sorted(set(spec.operations) - set(handlers.HANDLERS))
    if missing:
        raise ValueError(
            f"the spec's operation(s) {', '.join(missing)} have no handler in mock_server.api.handlers"
        )
    services = build_services(settings, spec)
    admin = AdminApi(services)
    routes: list[BaseRoute] = [  # /v1/ is the pipeline's own (`Pipeline.api`)
        _files_endpoint(services),
        *docs.routes(),  # before the admin mount: it serves /__admin/openapi.yaml
        Mount("/__admin", routes=[*admin.routes(), *AdminViews(services, admin.authorize).routes()]),
        Route("/healthz", services.health.healthz, methods=["GET"]),
        Route("/readyz", services.health.readyz, methods=["GET"]),
        Route("/metrics", services.metrics.endpoint, methods=["GET"]),
        *console.routes(Samples()),
    ]
    app = MockApp(services, routes)
    app.state.mock = services  # the name `docs` and `testing.RunningServer.mock` read it by
    app.state.settings = settings
    app.state.spec_bytes = spec.path.read_bytes() if spec.path else b""
    return app
