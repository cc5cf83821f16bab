"""The mock's documents and their viewer, offline.

- `/openapi.yaml`: the spec, byte for byte.
- `/__admin/openapi.yaml`: the admin API's own document (`mock_server/admin_openapi.yaml`).
- `/docs`: Swagger UI 5 (it reads OpenAPI 3.1) from the `swagger-ui-py` package's static files, no CDN,
  with both documents in its selector. It loads `/docs/openapi.json` and `/docs/admin-openapi.json`:
  the same 3.1 documents with this server put first in `servers`, so "Try it out" reaches this mock,
  and a note before the spec's description pointing at the console and the built-in audio samples;
  nothing else differs (tested). The error catalog and the limits are in the spec's description and
  `ErrorCode` schemas, which Swagger UI shows.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mock_server.samples import SAMPLES, Samples

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["ADMIN_SPEC_PATH", "admin_document", "routes", "swagger_ui_dir"]

#: The admin API's document, committed beside this module.
ADMIN_SPEC_PATH = Path(__file__).with_name("admin_openapi.yaml")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A2V API - mock server</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  urls: [{url: "/docs/openapi.json", name: "A2V API"},
         {url: "/docs/admin-openapi.json", name: "Mock admin API"}],
  "urls.primaryName": "A2V API", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
  persistAuthorization: true});
</script></body></html>
"""


def swagger_ui_dir() -> Path:
    """Swagger UI 5's built files, shipped inside the `swagger-ui-py` wheel."""
    import swagger_ui

    return Path(swagger_ui.__file__).parent / "static"


@cache
def admin_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ADMIN_SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _served_here(document: dict[str, Any], url: str, note: str = "") -> Response:
    """`document` with `url` first among its servers and `note` before its description, as JSON."""
    served = copy.copy(document)
    others = [s for s in document.get("servers", []) if s.get("url") != url]
    served["servers"] = [{"url": url, "description": "this mock server"}, *others]
    if note:
        info = document.get("info", {})
        served["info"] = {**info, "description": note + str(info.get("description", ""))}
    return Response(json.dumps(served), media_type="application/json")


def _mock_note(base: str) -> str:
    """What this page adds for the mock: the console and the built-in samples, ready for "Try it out"."""
    samples = "\n".join(
        f"- [`{url}`]({url}): {SAMPLES[name].description}" for name, url in Samples.urls(base).items()
    )
    return (
        f"**This is the a2v-mock server.** Web console: [{base}/console]({base}/console). "
        "Any bearer token works in open mode. Built-in speech samples, usable as `audio_url`:\n\n"
        f"{samples}\n\n---\n\n"
    )


async def spec_yaml(request: Request) -> Response:
    return Response(request.app.state.spec_bytes, media_type="application/yaml")


async def admin_yaml(request: Request) -> Response:
    return Response(ADMIN_SPEC_PATH.read_bytes(), media_type="application/yaml")


async def spec_json(request: Request) -> Response:
    base = _base(request)
    return _served_here(request.app.state.mock.spec.document, base, _mock_note(base))


async def admin_json(request: Request) -> Response:
    return _served_here(admin_document(), f"{_base(request)}/__admin")


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE)


def routes() -> list[Route | Mount]:
    return [
        Route("/openapi.yaml", spec_yaml, methods=["GET"]),
        Route("/__admin/openapi.yaml", admin_yaml, methods=["GET"]),
        Route("/docs", page, methods=["GET"]),
        Route("/docs/openapi.json", spec_json, methods=["GET"]),
        Route("/docs/admin-openapi.json", admin_json, methods=["GET"]),
        Mount("/docs/assets", StaticFiles(directory=swagger_ui_dir()), name="docs-assets"),
    ]
