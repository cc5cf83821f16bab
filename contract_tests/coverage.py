"""What the run observed of the contract: operations, HTTP statuses, task statuses, catalog codes,
documented headers and optional fields, each seen or never seen.

A verdict says what held; coverage says how much of the contract the run touched to get it. A run
that never saw a `429`, a `1002` or a `Retry-After` has nothing to say about them, and the report says
so (console, `--report-json`, JUnit properties). `Watch` records every answer of the kit's clients
into it; task statuses come from `video.get`/`video.list` bodies, catalog codes from envelopes and from
failed tasks' `error.code`.

Optional fields (every property a response schema does not require: `progress`, `mask_video_url`,
...) are judged only when the service sends them, so a service that never sends one is never judged on
its rules: `optional_fields` lists, per operation, which of them the run saw and which it never did.
They are derived from the spec and named by their path in the answer's body (`data.progress`,
`data[].model_id` for an item of an array).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from a2v_spec import Status

if TYPE_CHECKING:
    from a2v_spec import Operation, Spec

__all__ = ["Coverage", "optional_fields"]

#: Deeper than any schema of the spec nests; a guard against a recursive schema.
_MAX_DEPTH = 16


def _documented_headers(node: Any) -> set[str]:
    """Every response header name the spec documents (the keys of each response's `headers`)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            headers = item.get("headers")
            if isinstance(headers, dict) and "description" in item:
                found.update(headers)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def optional_fields(spec: Spec) -> dict[str, set[str]]:
    """Per operation, the optional fields of its documented JSON answers (an operation with none is
    left out): each property that an object schema allows but does not list in `required`.

    Of a `oneOf` (the video's statuses) a field is optional when one branch allows it without requiring
    it; a property a branch forbids (`not: {}`: a finished video's `error`) is not the branch's field."""
    found: dict[str, set[str]] = {}
    for operation in spec.operations.values():
        fields: set[str] = set()
        for status in operation.responses:
            pointer = spec.response_pointer(operation, int(status)) if status.isdigit() else None
            if pointer is not None:
                _collect(spec, spec.at(pointer), "", fields, 0)
        if fields:
            found[operation.operation_id] = fields
    return found


def _collect(spec: Spec, node: Any, path: str, out: set[str], depth: int) -> None:
    """Add to `out` the optional fields of the schema `node` found at `path` of the body."""
    schema = spec.resolve(node) if isinstance(node, dict) else None
    if schema is None or depth > _MAX_DEPTH:
        return
    for key in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(key, []):
            _collect(spec, branch, path, out, depth + 1)
    if isinstance(schema.get("items"), dict):
        _collect(spec, schema["items"], f"{path}[]", out, depth + 1)
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        resolved = spec.resolve(prop) if isinstance(prop, dict) else {}
        if resolved.get("not") == {}:
            continue  # forbidden in this branch
        field_path = f"{path}.{name}" if path else name
        if name not in required:
            out.add(field_path)
        _collect(spec, prop, field_path, out, depth + 1)


def _present(value: Any, parts: list[str]) -> bool:
    """Whether the field at `parts` of a path (`data[]`, `model_id`) is in `value`; an `[]` part holds
    when any item of the array has the rest."""
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    name, many = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(value, dict) or name not in value:
        return False
    inner = value[name]
    if many:
        return isinstance(inner, list) and any(_present(item, rest) for item in inner)
    return _present(inner, rest)


@dataclass
class Coverage:
    """Seen and documented, per dimension; `summary()` is what the report prints."""

    operations: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    http_statuses: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    task_statuses: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    catalog_codes: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    headers: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    #: Per operation, its optional fields seen and all of them (`optional_fields(spec)`).
    optional: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: Spec) -> Coverage:
        coverage = cls()
        coverage.operations["all"] = set(spec.operations)
        coverage.http_statuses["all"] = {
            f"{op.operation_id} {status}" for op in spec.operations.values() for status in op.responses
        }
        coverage.task_statuses["all"] = {str(s) for s in Status}
        coverage.catalog_codes["all"] = {str(code) for code in spec.errors}
        coverage.headers["all"] = _documented_headers(spec.document.get("paths", {})) | _documented_headers(
            spec.document.get("components", {}).get("responses", {})
        )
        coverage.optional = {op: {"seen": set(), "all": names} for op, names in optional_fields(spec).items()}
        return coverage

    def saw(self, operation: Operation | None, status: int, headers: Any, body: Any) -> None:
        """One JSON answer; `operation` is None for paths outside the spec (routing errors, files)."""
        if operation is not None:
            self.operations["seen"].add(operation.operation_id)
            self.http_statuses["seen"].add(f"{operation.operation_id} {status}")
        names = {name.lower() for name in headers}
        self.headers["seen"].update(h for h in self.headers["all"] if h.lower() in names)
        if not isinstance(body, dict):
            return
        optional = self.optional.get(operation.operation_id) if operation is not None else None
        if optional is not None and 200 <= status < 300:
            unseen = optional["all"] - optional["seen"]
            optional["seen"].update(f for f in unseen if _present(body, f.split(".")))
        if isinstance(body.get("code"), int) and body["code"] != 0:
            self.catalog_codes["seen"].add(str(body["code"]))
        data = body.get("data")
        # a video (video.get) or a list of them (video.list; characters have no status)
        for video in data if isinstance(data, list) else [data]:
            if isinstance(video, dict) and isinstance(video.get("status"), str):
                self.task_statuses["seen"].add(video["status"])
                error = video.get("error")
                if isinstance(error, dict) and isinstance(error.get("code"), int):
                    self.catalog_codes["seen"].add(str(error["code"]))

    def dimensions(self) -> dict[str, dict[str, set[str]]]:
        return {
            "operations": self.operations,
            "HTTP statuses": self.http_statuses,
            "task statuses": self.task_statuses,
            "catalog codes": self.catalog_codes,
            "headers": self.headers,
        }

    def as_dict(self) -> dict[str, Any]:
        """Each dimension's `seen` and `never_seen`; `optional_fields` has them per operation."""
        out: dict[str, Any] = {name: _seen_and_never(d) for name, d in self.dimensions().items()}
        out["optional_fields"] = {op: _seen_and_never(d) for op, d in sorted(self.optional.items())}
        return out

    def properties(self) -> list[tuple[str, str]]:
        """(name, comma-separated value) pairs of every list of `as_dict()`, for JUnit properties."""
        out = []
        for name, d in self.dimensions().items():
            for key, values in _seen_and_never(d).items():
                out.append((f"coverage.{name.replace(' ', '_')}.{key}", ",".join(values)))
        for op, d in sorted(self.optional.items()):
            for key, values in _seen_and_never(d).items():
                out.append((f"coverage.optional_fields.{op}.{key}", ",".join(values)))
        return out

    def summary(self) -> list[str]:
        lines = []
        named = [
            *self.dimensions().items(),
            *((f"optional fields of {op}", d) for op, d in self.optional.items()),
        ]
        for name, d in named:
            if not d["all"]:
                continue
            never = sorted(d["all"] - d["seen"])
            tail = f"; never seen: {', '.join(never)}" if never else ""
            lines.append(f"  {name}: {len(d['seen'] & d['all'])} of {len(d['all'])} seen{tail}")
        return lines


def _seen_and_never(d: dict[str, set[str]]) -> dict[str, list[str]]:
    return {"seen": sorted(d["seen"] & d["all"]), "never_seen": sorted(d["all"] - d["seen"])}
