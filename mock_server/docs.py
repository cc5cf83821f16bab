"""`/openapi.yaml` (the spec as loaded) and `/docs` (Swagger UI served from the swagger_ui_bundle
package, so it works offline).

The bundled Swagger UI (4.x) refuses `openapi: 3.1.x` documents, so `/docs/openapi.json` gives it the
same document labelled 3.0.3; `/openapi.yaml` is always the untouched spec.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mock_server.samples import SAMPLES, Samples

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["routes"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A2V API - mock server</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({url: "/docs/openapi.json", dom_id: "#swagger-ui", deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "StandaloneLayout",
  persistAuthorization: true});
</script></body></html>
"""


async def spec_yaml(request: Request) -> Response:
    return Response(request.app.state.spec_bytes, media_type="application/yaml")


async def spec_json(request: Request) -> Response:
    document = dict(request.app.state.mock.spec.document)
    document["openapi"] = "3.0.3"
    base = str(request.base_url).rstrip("/")
    document["servers"] = [{"url": base, "description": "this mock server"}]
    document["info"] = {**document.get("info", {}), "description": _mock_note(base) + _description(document)}
    return Response(json.dumps(document), media_type="application/json")


def _description(document: dict[str, Any]) -> str:
    return str(document.get("info", {}).get("description", ""))


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


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE)


def routes() -> list[Route | Mount]:
    from swagger_ui_bundle import swagger_ui_path

    return [
        Route("/openapi.yaml", spec_yaml, methods=["GET"]),
        Route("/docs", page, methods=["GET"]),
        Route("/docs/openapi.json", spec_json, methods=["GET"]),
        Mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="docs-assets"),
    ]
