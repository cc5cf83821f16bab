"""The web console at `/console`, the way a browser gets there from `/`, and the built-in samples.

`/` has no operation: a browser (it asks for HTML) is sent to the console; an API client gets the 404
envelope (as from the real service), whose message names where the API, its docs and the console are.

The console is static files shipped inside the package (`mock_server/admin/console/`: HTML, CSS and ES
modules, no CDN, no build step); everything it shows or changes goes through the admin API and the
public API, like any other client. The samples are made on first use (see `mock_server.tasks.samples`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mock_server.admin.docs import wants_html
from mock_server.errors import NoOperation
from mock_server.tasks.samples import UnknownSample

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from mock_server.tasks.samples import Samples

__all__ = ["STATIC", "routes"]

#: The console's files, inside the installed package.
STATIC = Path(__file__).with_name("console")


#: Every method: only GET and HEAD are redirected, the others get the same 404 as before (not 405).
_ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_ROOT_HINT = (
    "the API is under /v1/a2v/ (docs at /docs, the spec at /openapi.yaml); the web console is at /console/"
)


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=308)


async def _root(request: Request) -> Response:
    if request.method in ("GET", "HEAD") and wants_html(request):
        # 302, not permanent: a later version may serve something here, and browsers cache a 308.
        return RedirectResponse("/console/", status_code=302)
    raise NoOperation("/", _ROOT_HINT)


def _samples_endpoint(samples: Samples) -> Route:
    async def sample(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            data = samples.bytes_of(name)
        except UnknownSample as err:
            raise NoOperation(f"/samples/{name}", str(err)) from None
        headers = {
            "Cache-Control": "public, max-age=86400",
            "Content-Disposition": f'inline; filename="{name}"',
        }
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            return Response(status_code=200, headers=headers, media_type="audio/wav")
        return Response(data, media_type="audio/wav", headers=headers)

    return Route("/samples/{name}", sample, methods=["GET", "HEAD"])


def routes(samples: Samples) -> list[BaseRoute]:
    return [
        Route("/", _root, methods=_ANY_METHOD),
        Route("/console", _to_console, methods=["GET", "HEAD"]),
        Mount("/console", StaticFiles(directory=STATIC, html=True), name="console"),
        _samples_endpoint(samples),
    ]
