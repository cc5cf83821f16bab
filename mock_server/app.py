"""`create_app(settings)`: the mock server as a Starlette application, and where it is put together.

The spec is loaded once here (start-up fails if it has no operations); `build_services` builds every
service, and `MockApp.build_middleware_stack` shows the whole request path in one function. The lifespan
only starts and stops the services. Run the lifespan when using the app in-process, for example::

    from mock_server.testing import app_client           # runs the lifespan on a background loop
    with app_client(create_app(Settings(data_dir=tmp))) as client:
        client.get("/v1/ping")

or, with `httpx.AsyncClient(transport=httpx.ASGITransport(app))`, inside
`async with mock_server.testing.lifespan(app):`.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import Mount, Route

from a2v_spec import load_spec
from mock_server import console, docs, handlers
from mock_server.admin import AdminApi
from mock_server.admin_views import AdminViews
from mock_server.api import ApiEndpoint
from mock_server.config import Settings
from mock_server.cors import allowed_origins, cors_middleware
from mock_server.errors import Errors, NoOperation
from mock_server.faults import RawSendKeeper
from mock_server.forwarded import Forwarded, TrustedProxies
from mock_server.metrics import RequestMetrics
from mock_server.middleware import (
    API_PREFIX,
    ErrorLayer,
    Faults,
    HeaderLimit,
    Identify,
    JournalLayer,
    RateLimit,
    ResponseCheck,
    ScenarioSync,
)
from mock_server.routing import ApiRoute
from mock_server.samples import Samples
from mock_server.services import Services, build_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute
    from starlette.types import ASGIApp

    from a2v_spec import Spec

__all__ = ["MockApp", "create_app"]

_FILE_NAME = re.compile(r"^(videos|previews|uploads)/([A-Za-z0-9][A-Za-z0-9_.-]*)$")


class MockApp(Starlette):
    """Starlette with the mock's own middleware stack (`build_middleware_stack`)."""

    def __init__(self, services: Services, routes: list[BaseRoute]) -> None:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            await services.start()
            try:
                yield
            finally:
                await services.aclose()

        super().__init__(routes=routes, lifespan=lifespan)
        self.services = services

    def build_middleware_stack(self) -> ASGIApp:
        """The request path, innermost first: router, then each layer around it (see `middleware`)."""
        s = self.services
        app: ASGIApp = self.router
        app = ErrorLayer(app, s.errors)
        app = Faults(app, s.scenario, s.injector, s.errors)
        app = RateLimit(app, s.limiter, s.errors)
        if s.settings.test_mode:
            app = ResponseCheck(app, s.validator, s.violations)
        app = Identify(app, s.auth)
        app = ScenarioSync(app, s.control)
        app = JournalLayer(app, s.journal)
        app = RequestMetrics(app, s.metrics, {op.path for op in s.spec.operations.values()})
        app = HeaderLimit(app, s.limits.max_header_bytes, s.errors)

        async def last_resort(request: Request, exc: Exception) -> Response:
            # An exception in a layer above the error layer: still the envelope (the cause was raised on).
            return s.errors.response(Errors.internal(exc))

        app = ServerErrorMiddleware(app, handler=last_resort)
        # CORS outermost: preflights are answered before anything counts, delays or records them.
        cors = cors_middleware(
            allowed_origins(s.settings.cors_origins, open_mode=s.settings.open_mode), s.spec
        )
        if cors is not None:
            app = cors.cls(app, *cors.args, **cors.kwargs)
        return Forwarded(
            RawSendKeeper(app), TrustedProxies.parse(s.settings.forwarded_allow_ips), s.settings.public_url
        )


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
            f"the spec's operation(s) {', '.join(missing)} have no handler in mock_server.handlers"
        )
    services = build_services(settings, spec)
    admin = AdminApi(services)
    routes: list[BaseRoute] = [
        ApiRoute(API_PREFIX, ApiEndpoint(services.table, services.validator, services.errors, services)),
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
