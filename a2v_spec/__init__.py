"""The A2V contract, read from `openapi.yaml` at run time.

Every other package (the mock server, the contract kit, the partner fixtures) takes operations, error
codes, limits and schemas from here instead of copying them into code, so the spec stays the single
source of truth.

Example:
    >>> from a2v_spec import load_spec
    >>> spec = load_spec()
    >>> spec.operation("getVideo").path
    '/v1/a2v/video.get'
    >>> spec.errors[1009].http_status
    429
"""

from __future__ import annotations

from a2v_spec.catalog import ErrorDef
from a2v_spec.names import TERMINAL, UNFINISHED, ErrorCode, Status
from a2v_spec.operations import Limits, Operation, Parameter
from a2v_spec.pointer import escape, inline_refs, join, resolve_pointer, resolve_refs, unescape, walk
from a2v_spec.request_rules import Refusal, RequestRules, Rule, bearer_token
from a2v_spec.schemas import SchemaError
from a2v_spec.spec import Spec, load_spec, spec_path
from a2v_spec.urls import UrlRule

__all__ = [
    "TERMINAL",
    "UNFINISHED",
    "ErrorCode",
    "ErrorDef",
    "Limits",
    "Operation",
    "Parameter",
    "Refusal",
    "RequestRules",
    "Rule",
    "SchemaError",
    "Spec",
    "Status",
    "UrlRule",
    "bearer_token",
    "escape",
    "inline_refs",
    "join",
    "load_spec",
    "resolve_pointer",
    "resolve_refs",
    "spec_path",
    "unescape",
    "walk",
]
