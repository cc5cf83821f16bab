"""Loading `openapi.yaml` once into typed operations, limits and the error catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from a2v_spec.catalog import ErrorDef, parse_catalog
from a2v_spec.names import check_names
from a2v_spec.operations import Limits, Operation, parse_operations
from a2v_spec.pointer import resolve_pointer, resolve_refs
from a2v_spec.request_rules import RequestRules
from a2v_spec.schemas import SchemaSet
from a2v_spec.urls import UrlRule


def spec_path() -> Path:
    """Where `openapi.yaml` is: inside the installed package, else at the root of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi.yaml", here.parent / "openapi.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"openapi.yaml is neither in {here} nor in {here.parent}")


@dataclass
class Spec:
    """The parsed spec. Build it with `load_spec()`."""

    document: dict[str, Any]
    path: Path | None = None
    operations: dict[str, Operation] = field(init=False)
    errors: dict[int, ErrorDef] = field(init=False)
    limits: Limits = field(init=False)

    def __post_init__(self) -> None:
        check_names(self.document)
        self.operations = parse_operations(self.document)
        if not self.operations:
            raise ValueError("the spec defines no operations")
        self.errors = parse_catalog(self.document.get("x-a2v-error-catalog", []))
        self.limits = Limits(**self.document["x-a2v-limits"])

    @cached_property
    def schemas(self) -> SchemaSet:
        return SchemaSet(self.document)

    @cached_property
    def url_rule(self) -> UrlRule:
        """What makes an `audio_url` or `callback_url` valid (`HttpUrl`), for every caller alike."""
        return UrlRule.from_document(self.document)

    @cached_property
    def request_rules(self) -> RequestRules:
        """What a request must be (parameters, body, token) at the spec's own limits, for every caller
        alike; a server with another body limit uses `spec.request_rules.with_body_limit(n)`."""
        return RequestRules(self.document, self.errors, self.url_rule, self.limits.max_request_bytes)

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"the spec has no operation {operation_id!r}") from None

    def find(self, method: str, path: str) -> Operation | None:
        """The operation at exactly this method and path, or None."""
        for op in self.operations.values():
            if op.method == method.lower() and op.path == path:
                return op
        return None

    def paths(self) -> set[str]:
        return {op.path for op in self.operations.values()}

    def response_pointer(self, operation: Operation, status: int) -> str | None:
        """JSON pointer of the JSON schema documented for `status` (falls back to `4XX`/`default`)."""
        responses = self.document["paths"][operation.path][operation.method]["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                response = self.resolve(responses[key])
                if "application/json" not in response.get("content", {}):
                    return None
                base = f"{operation.pointer}/responses/{key}"
                if "$ref" in responses[key]:
                    base = responses[key]["$ref"].lstrip("#")
                return f"{base}/content/application~1json/schema"
        return None

    def response_headers(self, operation: Operation, status: int) -> dict[str, dict[str, Any]]:
        """The header objects documented for `status` (falls back like `response_pointer`), by name."""
        responses = self.document["paths"][operation.path][operation.method]["responses"]
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                headers = self.resolve(responses[key]).get("headers", {})
                return {name: self.resolve(header) for name, header in headers.items()}
        return {}

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """Follow `$ref`s within the document until a real object."""
        resolved: dict[str, Any] = resolve_refs(self.document, node)
        return resolved

    def at(self, pointer: str) -> Any:
        """The value at a JSON pointer of the document."""
        return resolve_pointer(self.document, pointer)


def load_spec(path: str | Path | None = None) -> Spec:
    """Parse the spec at `path` (default: the bundled `openapi.yaml`)."""
    source = Path(path) if path is not None else spec_path()
    with source.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{source} is not an OpenAPI document (no 'paths')")
    return Spec(document, source)
