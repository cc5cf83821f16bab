"""The mock's documents and their viewer, offline.

- `/openapi.yaml`: the spec, byte for byte.
- `/__admin/openapi.yaml`: the admin API's own document (`mock_server/admin/admin_openapi.yaml`).
- `/__admin/` (and `/__admin`): an index of the admin calls, read from that document (method, path,
  summary) and pointing at it; JSON in the envelope, or a small HTML page for a browser.
- `/docs`: Swagger UI 5 (it reads OpenAPI 3.1) from the `swagger-ui-py` package's static files, no CDN,
  with both documents in its selector. It loads `/docs/openapi.json` and `/docs/admin-openapi.json`:
  the same 3.1 documents with this server put first in `servers`, so "Try it out" reaches this mock,
  and a note before the spec's description pointing at the console and the built-in audio samples;
  nothing else differs (tested). The error catalog and the limits are in the spec's description and
  `ErrorCode` schemas, which Swagger UI shows.
"""

from __future__ import annotations

import copy
import html
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from a2v_spec import ErrorCode
from mock_server.errors import envelope_bytes
from mock_server.tasks.samples import SAMPLES, Samples

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["ADMIN_SPEC_PATH", "admin_calls", "admin_document", "routes", "swagger_ui_dir", "wants_html"]

#: The admin API's document, committed beside this module.
ADMIN_SPEC_PATH = Path(__file__).with_name("admin_openapi.yaml")

_METHODS = ("get", "put", "post", "delete", "patch")

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


_ADMIN_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:14px/1.45 system-ui,sans-serif;margin:1rem;max-width:60rem}}
td{{padding:.2rem .6rem .2rem 0;vertical-align:top}}</style></head>
<body><h1>{title}</h1><p>{summary}</p>
<p>The document: <a href="/__admin/openapi.yaml">/__admin/openapi.yaml</a> (and "Mock admin API" in
<a href="/docs">/docs</a>, to try the calls). The web console: <a href="/console/">/console/</a>.</p>
<table>{rows}</table></body></html>
"""


def swagger_ui_dir() -> Path:
    """Swagger UI 5's built files, shipped inside the `swagger-ui-py` wheel."""
    import swagger_ui

    return Path(swagger_ui.__file__).parent / "static"


@cache
def admin_document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ADMIN_SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def admin_calls() -> list[dict[str, str]]:
    """Every call of the admin document, in its order: method, full path under `/__admin`, summary."""
    calls = []
    for path, item in admin_document().get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                calls.append(
                    {
                        "method": method.upper(),
                        "path": f"/__admin{path}",
                        "summary": str(operation.get("summary", "")),
                    }
                )
    return calls


def wants_html(request: Request) -> bool:
    """Whether the caller is a browser (it asks for HTML); API clients and curl ask for `*/*` or JSON."""
    return "text/html" in request.headers.get("accept", "")


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


async def admin_index(request: Request) -> Response:
    """What `/__admin/` offers: the admin calls, the admin document and where to try them."""
    calls = admin_calls()
    info = admin_document().get("info", {})
    if wants_html(request):
        rows = "".join(
            f"<tr><td><code>{c['method']}</code></td><td><code>{html.escape(c['path'])}</code></td>"
            f"<td>{html.escape(c['summary'])}</td></tr>"
            for c in calls
        )
        return HTMLResponse(
            _ADMIN_INDEX.format(
                title=html.escape(str(info.get("title", "admin API"))),
                summary=html.escape(str(info.get("summary", ""))),
                rows=rows,
            )
        )
    data = {
        "title": info.get("title"),
        "summary": info.get("summary"),
        "openapi": "/__admin/openapi.yaml",
        "docs": "/docs",
        "console": "/console/",
        "calls": calls,
    }
    return Response(envelope_bytes(ErrorCode.SUCCESS, "success", data), media_type="application/json")


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(_PAGE)


def routes() -> list[Route | Mount]:
    return [
        Route("/openapi.yaml", spec_yaml, methods=["GET"]),
        Route("/__admin/openapi.yaml", admin_yaml, methods=["GET"]),
        Route("/__admin", admin_index, methods=["GET"]),
        Route("/__admin/", admin_index, methods=["GET"]),
        Route("/docs", page, methods=["GET"]),
        Route("/docs/openapi.json", spec_json, methods=["GET"]),
        Route("/docs/admin-openapi.json", admin_json, methods=["GET"]),
        Mount("/docs/assets", StaticFiles(directory=swagger_ui_dir()), name="docs-assets"),
    ]
