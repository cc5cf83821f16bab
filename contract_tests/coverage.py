"""What the run observed of the contract: operations, HTTP statuses, task statuses, catalog codes and
documented headers, each seen or never seen.

A verdict says what held; coverage says how much of the contract the run touched to get it. A run
that never saw a `429`, a `1002` or a `Retry-After` has nothing to say about them, and the report says
so (console, `--report-json`, JUnit properties). `Watch` records every answer of the kit's clients
into it; task statuses come from `video.get`/`video.list` bodies, catalog codes from envelopes and from
failed tasks' `error.code`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from a2v_spec import Status

if TYPE_CHECKING:
    from a2v_spec import Operation, Spec

__all__ = ["Coverage"]


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


@dataclass
class Coverage:
    """Seen and documented, per dimension; `summary()` is what the report prints."""

    operations: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    http_statuses: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    task_statuses: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    catalog_codes: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})
    headers: dict[str, set[str]] = field(default_factory=lambda: {"seen": set(), "all": set()})

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
        if isinstance(body.get("code"), int) and body["code"] != 0:
            self.catalog_codes["seen"].add(str(body["code"]))
        data = body.get("data")
        for video in data.get("items", [data]) if isinstance(data, dict) else []:
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

    def as_dict(self) -> dict[str, dict[str, list[str]]]:
        return {
            name: {
                "seen": sorted(d["seen"] & d["all"]),
                "never_seen": sorted(d["all"] - d["seen"]),
            }
            for name, d in self.dimensions().items()
        }

    def summary(self) -> list[str]:
        lines = []
        for name, d in self.dimensions().items():
            if not d["all"]:
                continue
            never = sorted(d["all"] - d["seen"])
            tail = f"; never seen: {', '.join(never)}" if never else ""
            lines.append(f"  {name}: {len(d['seen'] & d['all'])} of {len(d['all'])} seen{tail}")
        return lines
