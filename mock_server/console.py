"""The web console at `/console` and the built-in samples at `/samples/<name>`.

The console is static files shipped inside the package (`mock_server/console/`: HTML, CSS and ES
modules, no CDN, no build step); everything it shows or changes goes through the admin API and the
public API, like any other client. The samples are made on first use (see `mock_server.samples`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mock_server.errors import NoOperation
from mock_server.samples import UnknownSample

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from mock_server.samples import Samples

__all__ = ["STATIC", "routes"]

#: The console's files, inside the installed package.
STATIC = Path(__file__).with_name("console")


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/console/", status_code=308)


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
        Route("/console", _to_console, methods=["GET", "HEAD"]),
        Mount("/console", StaticFiles(directory=STATIC, html=True), name="console"),
        _samples_endpoint(samples),
    ]
