"""JSON Schema validation of values against the spec's schemas, with `$ref`s resolved in the document."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:a2v:openapi"


class SchemaError(ValueError):
    """A value does not match a schema; `path` is where (e.g. `data.items[0].status`)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


class SchemaSet:
    """Validators for any schema of one spec document, built once and cached."""

    def __init__(self, document: dict[str, Any]) -> None:
        resource: Resource[Any] = DRAFT202012.create_resource(document)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._document = document
        self._cached = cache(self._build)

    def _build(self, pointer: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry)

    def validator(self, pointer: str) -> Draft202012Validator:
        """The validator for the schema at a JSON pointer such as `/components/schemas/Video`."""
        return self._cached(pointer)

    def errors(self, pointer: str, value: Any) -> list[SchemaError]:
        """Every mismatch of `value`, the most specific first; empty when it conforms."""
        found = sorted(self.validator(pointer).iter_errors(value), key=lambda e: -len(e.absolute_path))
        return [SchemaError(_path(err.absolute_path), err.message) for err in found]

    def check(self, pointer: str, value: Any) -> None:
        """Raise the first mismatch as a SchemaError."""
        errors = self.errors(pointer, value)
        if errors:
            raise errors[0]


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
