"""The spec's named response examples, for Prism's `Prefer: example=NAME` (and `code=2xx`).

Prism answers a request with an example from the spec when asked; so does the mock, as test control:
`Prefer: example=error` on `video.get` answers the `error` example of its 200 response, as written in
`openapi.yaml`, without touching the store. A status picks among responses (`code=404` or `status=404`);
without one, the first response (in the spec's order) that has an example of that name answers. Such
answers are exempt from the test-mode response check, like every answer forced by `Prefer`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode
from a2v_spec.pointer import resolve_pointer
from mock_server.errors import ApiError

if TYPE_CHECKING:
    from a2v_spec import Operation, Spec

__all__ = ["Examples"]


class Examples:
    """operation id -> [(status, example name, value)], in the spec's order; built once at start-up."""

    def __init__(self, spec: Spec) -> None:
        self._by_op: dict[str, list[tuple[int, str, Any]]] = {}
        for op in spec.operations.values():
            found: list[tuple[int, str, Any]] = []
            responses = resolve_pointer(spec.document, op.pointer).get("responses", {})
            for status, response in responses.items():
                if not str(status).isdigit():
                    continue
                if "$ref" in response:
                    response = resolve_pointer(spec.document, response["$ref"])
                media = response.get("content", {}).get("application/json", {})
                for name, example in media.get("examples", {}).items():
                    if "$ref" in example:
                        example = resolve_pointer(spec.document, example["$ref"])
                    found.append((int(status), name, example.get("value")))
                if "example" in media:
                    found.append((int(status), "default", media["example"]))
            self._by_op[op.operation_id] = found

    def names(self, op: Operation, status: int | None = None) -> list[str]:
        return [name for code, name, _ in self._by_op[op.operation_id] if status in (None, code)]

    def answer(self, op: Operation, name: str | None, status: int | None) -> tuple[int, bytes]:
        """(HTTP status, body) of the example `name` (any name when None) of `op`, at `status` if given."""
        for code, example, value in self._by_op[op.operation_id]:
            if (name is None or example == name) and status in (None, code):
                return code, json.dumps(value).encode()
        known = ", ".join(self.names(op, status)) or "none"
        at = f" with status {status}" if status is not None else ""
        wanted = f"example={name}" if name is not None else f"code={status}"
        raise ApiError(
            ErrorCode.INVALID_PARAMETER,
            f"invalid parameter 'Prefer': {wanted}: {op.operation_id} has no such example{at}; "
            f"its examples: {known}",
        )
