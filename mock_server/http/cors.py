"""CORS, so a browser page on another origin (a front-end's dev server) can call the mock.

Policy: open mode answers every origin unless told otherwise; keyed mode (a shared sandbox) answers
none unless origins are configured (`cors_origins`, `--cors ORIGIN`); `--no-cors` turns it off.
Preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered before anything else runs,
so they cost no rate limit and meet no injected fault. Response headers a page may read are those the
spec documents (`X-Ratelimit-*`, `Retry-After`, ...), taken from `openapi.yaml`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from a2v_spec.pointer import resolve_pointer

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from a2v_spec import Spec

__all__ = ["allowed_origins", "cors_middleware", "cors_rules", "exposed_headers"]

#: How long a browser may cache a preflight answer (seconds).
MAX_AGE = 600


def allowed_origins(configured: list[str] | None, *, open_mode: bool) -> list[str]:
    """The origins answered: the configured list, else `*` in open mode and none in keyed mode."""
    if configured is not None:
        return list(configured)
    return ["*"] if open_mode else []


def exposed_headers(spec: Spec) -> list[str]:
    """Every response header the spec documents on any operation, in a stable order."""
    names: set[str] = set()
    for path_item in spec.document.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                if isinstance(response, dict) and "$ref" in response:
                    response = resolve_pointer(spec.document, response["$ref"])
                if isinstance(response, dict):
                    names.update(response.get("headers", {}))
    return sorted(names, key=str.lower)


def _options(origins: list[str], spec: Spec) -> dict[str, Any]:
    return {
        "allow_origins": origins,
        "allow_methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"],
        "allow_headers": ["*"],
        "expose_headers": exposed_headers(spec),
        "max_age": MAX_AGE,
    }


def cors_middleware(origins: list[str], spec: Spec) -> Middleware | None:
    """Starlette's CORS middleware for `origins` (see `allowed_origins`); None when there is none."""
    if not origins:
        return None
    return Middleware(CORSMiddleware, **_options(origins, spec))


async def _nothing_behind(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("the CORS rules are called by the request path, never as middleware")


def cors_rules(origins: list[str], spec: Spec) -> CORSMiddleware | None:
    """Starlette's CORS rules for `origins`, for the request path to call (`preflight_response`, and
    `send` on an answer's head) rather than as a layer wrapping every `send`; None when there is none."""
    if not origins:
        return None
    return CORSMiddleware(_nothing_behind, **_options(origins, spec))
