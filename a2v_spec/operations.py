"""The operations of a spec document, typed: where each lives, what it takes, what it answers.

Apart from `spec.py` so that the rules over operations (`request_rules.py`) can name them without
importing the loader that builds them from those rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a2v_spec.pointer import escape, resolve_refs

__all__ = ["HTTP_METHODS", "Limits", "Operation", "Parameter", "parse_operations"]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str
    required: bool
    schema_pointer: str


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: where it lives and what it takes."""

    operation_id: str
    method: str
    path: str
    needs_auth: bool
    parameters: tuple[Parameter, ...]
    body_pointer: str | None
    body_required: bool
    responses: tuple[str, ...]
    pointer: str


@dataclass(frozen=True)
class Limits:
    """`x-a2v-limits`: the numbers a client and an implementation agree on."""

    max_request_bytes: int
    min_audio_seconds: float
    max_audio_seconds: float
    max_audio_bytes: int
    audio_fetch_timeout_seconds: float
    audio_max_redirects: int
    url_ttl_seconds: int
    access_token_ttl_seconds: int
    idempotency_ttl_seconds: int
    video_fps: int
    video_size: int
    #: Largest request header block a server reads (a bigger one answers 431, code 1015).
    max_header_bytes: int = 16384


def parse_operations(document: dict[str, Any]) -> dict[str, Operation]:
    """Every operation of `document` by operationId (path-level parameters first, then the method's)."""
    default_security = document.get("security", [])
    operations: dict[str, Operation] = {}
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            raw = item[method]
            pointer = f"/paths/{escape(path)}/{method}"
            params = []
            for index, param in enumerate(item.get("parameters", []) + raw.get("parameters", [])):
                param_pointer = f"{pointer}/parameters/{index}"
                if "$ref" in param:
                    param_pointer = param["$ref"].lstrip("#")
                    param = dict(resolve_refs(document, param))
                params.append(
                    Parameter(
                        name=param["name"],
                        location=param["in"],
                        required=bool(param.get("required", False)),
                        schema_pointer=f"{param_pointer}/schema",
                    )
                )
            body = raw.get("requestBody")
            body_pointer = None
            if body and "application/json" in body.get("content", {}):
                body_pointer = f"{pointer}/requestBody/content/application~1json/schema"
            operations[raw["operationId"]] = Operation(
                operation_id=raw["operationId"],
                method=method,
                path=path,
                needs_auth=bool(raw.get("security", default_security)),
                parameters=tuple(params),
                body_pointer=body_pointer,
                body_required=bool(body and body.get("required", False)),
                responses=tuple(str(code) for code in raw.get("responses", {})),
                pointer=pointer,
            )
    return operations
