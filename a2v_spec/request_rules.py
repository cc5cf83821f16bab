"""The rules a request must follow, read from `openapi.yaml`: one verdict for the mock and the proxy.

The mock refuses a request that breaks a rule; the proxy (`a2v-contract proxy`) flags the client that
sent it and demands that refusal from the server. When each kept its own copy of the rules, the copies
drifted (the mock took any `+json` type, the proxy only `application/json`; they read booleans
differently) and the proxy flagged exchanges the mock had answered 200. Here is the only copy:

* **auth**: an operation with `security` needs `Authorization: Bearer <token>` (one token, no spaces).
* **parameters** (query and header, as the operation lists them): each given at most once (RFC 9110
  section 5.3: a field that is not a list is sent once), present when `required`, its text read as the
  schema's `type` says (an integer is ASCII digits with an optional `-`, never Python's `int()` with its
  `_`, `+`, spaces and non-ASCII digits; a boolean is `true` or `false`, the literals OpenAPI's `form`
  style writes), then valid against the schema. Absent, it takes the schema's `default`.
* **body** of an operation with a JSON `requestBody`, in this order: at most `x-a2v-limits.
  max_request_bytes` (1013); absent (empty) when `required` is false; a `Content-Type` among the
  requestBody's media types, parameters ignored (1005); UTF-8 (a leading BOM is ignored, RFC 8259
  section 8.1) JSON with no `NaN`/`Infinity`, no name given twice in one object (which value would an
  implementation take?) and not nested past the parser's depth, and a JSON object (1004); valid against
  the schema, `HttpUrl` fields by the URL rule (`a2v_spec.urls`), and no lone surrogate in any string or
  name (it would fail every later UTF-8 encoding) (1003).

Each broken rule is a `Refusal`: the rule, the catalog code and HTTP status the answer must carry, and
a message that names the bad value, in the words of the spec's examples (`invalid parameter 'page': 0 is
less than the minimum of 1`). Nothing here does I/O: the caller reads the request (the mock streams its
body with the size limit; the proxy has the exchange) and hands the parts in.

Example:
    >>> from a2v_spec import load_spec
    >>> spec = load_spec()
    >>> rules = spec.request_rules
    >>> [r.message for r in rules.parameters(spec.operation("listVideos"), "page=0", []).refusals]
    ["invalid parameter 'page': 0 is less than the minimum of 1"]
    >>> rules.body(spec.operation("login"), "text/plain", b"x").refusal.code
    <ErrorCode.UNSUPPORTED_MEDIA_TYPE: 1005>
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator, ValidationError

from a2v_spec.names import ErrorCode
from a2v_spec.pointer import inline_refs, resolve_pointer, resolve_refs
from a2v_spec.urls import HTTP_URL_POINTER

if TYPE_CHECKING:
    from a2v_spec.catalog import ErrorDef
    from a2v_spec.operations import Operation
    from a2v_spec.urls import UrlRule

__all__ = [
    "MISSING_TOKEN",
    "Body",
    "HeaderLines",
    "Parameters",
    "Refusal",
    "RequestRules",
    "Rule",
    "bearer_token",
    "media_type",
    "oversize_message",
    "query_pairs",
    "read_json_object",
]

#: What a request without a usable `Authorization: Bearer <token>` is told (the spec's example).
MISSING_TOKEN = "missing or malformed Authorization header: expected 'Bearer <token>'"

_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_BOOLEANS = {"true": True, "false": False}
_UTF8_BOM = b"\xef\xbb\xbf"


class Rule(StrEnum):
    """Which rule a request breaks; each rule answers with one code of the catalog."""

    AUTH = "auth"
    PARAMETER = "parameter"
    SIZE = "size"
    CONTENT_TYPE = "content_type"
    MALFORMED = "malformed"

    @property
    def code(self) -> ErrorCode:
        return _CODES[self]


_CODES = {
    Rule.AUTH: ErrorCode.UNAUTHORIZED,
    Rule.PARAMETER: ErrorCode.INVALID_PARAMETER,
    Rule.SIZE: ErrorCode.PAYLOAD_TOO_LARGE,
    Rule.CONTENT_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
    Rule.MALFORMED: ErrorCode.MALFORMED_BODY,
}


@dataclass(frozen=True)
class Refusal:
    """A broken rule: the answer the spec demands for it (`status`, `code`) and what was wrong."""

    rule: Rule
    code: ErrorCode
    status: int
    message: str


@dataclass
class Parameters:
    """The parameters of one request, read as their schemas say (defaults filled in), and every refusal."""

    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)


@dataclass(frozen=True)
class Body:
    """The parsed JSON body (None when there is none), or why it is refused."""

    value: dict[str, Any] | None = None
    refusal: Refusal | None = None


class HeaderLines(Protocol):
    """Request headers by name, every line of a name (Starlette's `Headers` is one)."""

    def getlist(self, key: str) -> list[str]: ...


class _HeaderList:
    """`HeaderLines` over (name, value) pairs."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = [(name.lower(), value) for name, value in pairs]

    def getlist(self, key: str) -> list[str]:
        lowered = key.lower()
        return [value for name, value in self._pairs if name == lowered]


def oversize_message(size: int | None, limit: int) -> str:
    """The 1013 message for a body of `size` bytes (None: known only to be over `limit`, a body refused
    while it streams)."""
    if size is None:
        return f"request body is larger than the limit of {limit} bytes"
    return f"request body is {size} bytes; the limit is {limit}"


def query_pairs(query: str | bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a raw query string, blank values kept, read as Starlette reads them
    (bytes as Latin-1, then percent-decoded as UTF-8), so the mock and the proxy see the same values."""
    if not query:
        return []
    text = query.decode("latin-1") if isinstance(query, bytes) else query
    return parse_qsl(text, keep_blank_values=True)


def bearer_token(header: str | None) -> str | None:
    """The token of a well-formed `Bearer <token>` header (scheme in any case, one token without
    spaces, surrounding spaces ignored), else None."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def media_type(content_type: str | None) -> str:
    """The media type of a `Content-Type` value, lowercased, without parameters (`""` when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    required: bool
    kind: str | None
    default: Any
    validator: Draft202012Validator


@dataclass(frozen=True)
class _BodyRules:
    media_types: tuple[str, ...]
    validator: Draft202012Validator
    url_fields: frozenset[str]


class _Unreadable(Exception):
    """The body is JSON text that this API does not read (NaN, a name given twice)."""


class RequestRules:
    """The request rules of one spec document. Take them from `Spec.request_rules` (built once; a server
    configured with another body limit uses `with_body_limit`); validators are compiled per operation on
    first use and kept."""

    def __init__(
        self, document: dict[str, Any], errors: dict[int, ErrorDef], url_rule: UrlRule, max_body_bytes: int
    ) -> None:
        self.document = document
        self.errors = errors
        self.url_rule = url_rule
        #: Bodies over this many bytes are refused with 1013 (`x-a2v-limits.max_request_bytes`).
        self.max_body_bytes = max_body_bytes
        self._params: dict[str, tuple[_Param, ...]] = {}
        self._bodies: dict[str, _BodyRules | None] = {}

    def with_body_limit(self, max_body_bytes: int) -> RequestRules:
        """The same rules with another body limit (a server configured so)."""
        if max_body_bytes == self.max_body_bytes:
            return self
        return RequestRules(self.document, self.errors, self.url_rule, max_body_bytes)

    # -- verdicts -----------------------------------------------------------------------------------
    def refusal(self, rule: Rule, message: str) -> Refusal:
        """A refusal of `rule`, with the HTTP status the catalog gives its code."""
        status = self.errors[rule.code].http_status
        if status is None:  # the spec made a request error a task error: every refusal would be wrong
            raise ValueError(f"x-a2v-error-catalog gives code {int(rule.code)} no http_status")
        return Refusal(rule, rule.code, status, message)

    def auth(self, op: Operation, authorization: str | None) -> Refusal | None:
        """1001 when `op` needs a token and the `Authorization` header carries none."""
        if op.needs_auth and bearer_token(authorization) is None:
            return self.refusal(Rule.AUTH, MISSING_TOKEN)
        return None

    def parameters(
        self,
        op: Operation,
        query: str | bytes | list[tuple[str, str]],
        headers: HeaderLines | list[tuple[str, str]],
    ) -> Parameters:
        """Every query and header parameter of `op` read from the request, with a refusal for each bad one
        (in the order the operation lists them). `query` is the raw query string or its pairs; `headers`
        every header line, as (name, value) pairs or anything with Starlette's `getlist`."""
        pairs = query if isinstance(query, list) else query_pairs(query)
        lines = _HeaderList(headers) if isinstance(headers, list) else headers
        out = Parameters()
        for param in self._parameters(op):
            if param.location == "query":
                values = [value for name, value in pairs if name == param.name]
                target = out.query
            else:
                values = lines.getlist(param.name)
                target = out.headers
            if len(values) > 1:
                out.refusals.append(self._invalid(param.name, f"given {len(values)} times"))
                continue
            if not values:
                if param.required:
                    reason = f"required {param.location} parameter is missing"
                    out.refusals.append(self._invalid(param.name, reason))
                elif param.default is not None:
                    target[param.name] = param.default
                continue
            value, problem = _coerce(param.kind, values[0])
            if problem is None:
                problem = _first_error(param.validator, value)
            if problem is not None:
                out.refusals.append(self._invalid(param.name, problem))
                continue
            target[param.name] = value
        return out

    def oversize(self, size: int) -> Refusal | None:
        """1013 when a body of `size` bytes is over the limit."""
        if size <= self.max_body_bytes:
            return None
        return self.refusal(Rule.SIZE, oversize_message(size, self.max_body_bytes))

    def body(self, op: Operation, content_type: str | None, raw: bytes, size: int | None = None) -> Body:
        """The body of `op` (a JSON requestBody) judged: size, presence, media type, JSON, schema.

        `size` is the body's full length when `raw` is only its start (a capped recording)."""
        rules = self._body_rules(op)
        if rules is None:
            return Body()
        length = len(raw) if size is None else size
        too_large = self.oversize(length)
        if too_large is not None:
            return Body(refusal=too_large)
        if length == 0:
            if not op.body_required:
                return Body()
            if not content_type:
                return Body(refusal=self._media(rules, "no body"))
        if media_type(content_type) not in rules.media_types:
            return Body(refusal=self._media(rules, repr(content_type or "none")))
        parsed = self.json_object(raw)
        if isinstance(parsed, Refusal):
            return Body(refusal=parsed)
        problem = self._schema_problem(rules, parsed)
        if problem is not None:
            return Body(refusal=problem)
        return Body(parsed)

    def json_object(self, raw: bytes) -> dict[str, Any] | Refusal:
        """`raw` read as a JSON object (`read_json_object`), else the 1004 refusal saying why."""
        parsed = read_json_object(raw)
        return self.refusal(Rule.MALFORMED, parsed) if isinstance(parsed, str) else parsed

    # -- compiled per operation ---------------------------------------------------------------------
    def _parameters(self, op: Operation) -> tuple[_Param, ...]:
        found = self._params.get(op.operation_id)
        if found is None:
            document = self.document
            compiled = []
            for param in op.parameters:
                if param.location not in ("query", "header"):
                    continue
                raw = resolve_pointer(document, param.schema_pointer)
                schema = resolve_refs(document, raw)
                compiled.append(
                    _Param(
                        name=param.name,
                        location=param.location,
                        required=param.required,
                        kind=schema.get("type"),
                        default=schema.get("default"),
                        validator=Draft202012Validator(inline_refs(document, raw)),
                    )
                )
            found = self._params[op.operation_id] = tuple(compiled)
        return found

    def _body_rules(self, op: Operation) -> _BodyRules | None:
        if op.operation_id in self._bodies:
            return self._bodies[op.operation_id]
        rules = None
        if op.body_pointer is not None:
            document = self.document
            content = resolve_refs(document, resolve_pointer(document, f"{op.pointer}/requestBody"))
            raw = resolve_pointer(document, op.body_pointer)
            schema = resolve_refs(document, raw)
            properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
            rules = _BodyRules(
                media_types=tuple(str(kind).lower() for kind in content.get("content", {})),
                validator=Draft202012Validator(inline_refs(document, raw)),
                url_fields=frozenset(
                    name
                    for name, prop in properties.items()
                    if isinstance(prop, dict) and prop.get("$ref") == f"#{HTTP_URL_POINTER}"
                ),
            )
        self._bodies[op.operation_id] = rules
        return rules

    # -- messages -----------------------------------------------------------------------------------
    def _invalid(self, name: str, reason: str) -> Refusal:
        return self.refusal(Rule.PARAMETER, f"invalid parameter '{_printable(name)}': {reason}")

    def _media(self, rules: _BodyRules, got: str) -> Refusal:
        wanted = " or ".join(rules.media_types)
        return self.refusal(Rule.CONTENT_TYPE, f"Content-Type must be {wanted}, got {got}")

    def _schema_problem(self, rules: _BodyRules, body: dict[str, Any]) -> Refusal | None:
        if not rules.validator.is_valid(body):
            error = sorted(rules.validator.iter_errors(body), key=lambda e: -len(e.absolute_path))[0]
            where, reason = _named(error)
            if where in rules.url_fields and isinstance(body.get(where), str):
                reason = self.url_rule.problem(body[where]) or reason
            return self._invalid(where, reason)
        surrogate = _lone_surrogate(body)
        if surrogate is not None:
            return self._invalid(surrogate, "contains a lone surrogate")
        return None


def read_json_object(raw: bytes) -> dict[str, Any] | str:
    """`raw` read as a JSON object (RFC 8259: UTF-8, a leading BOM ignored, no `NaN`, no name twice in
    one object, nesting as deep as the parser goes), else the message saying why not (code 1004)."""
    data = raw.removeprefix(_UTF8_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return (
            f"request body is not valid JSON: it is not UTF-8 (byte 0x{data[err.start]:02x} at {err.start})"
        )
    try:
        body = json.loads(text, object_pairs_hook=_object, parse_constant=_no_constant)
    except (_Unreadable, ValueError) as err:
        return f"request body is not valid JSON: {err}"
    except RecursionError:
        return "request body is not a usable JSON object: it nests too deeply"
    if not isinstance(body, dict):
        return f"request body must be a JSON object, got {type(body).__name__}"
    return body


def _coerce(kind: str | None, raw: str) -> tuple[Any, str | None]:
    """`raw` as a value of the schema's `type`, or (None, why not)."""
    if kind == "integer":
        if _INTEGER.fullmatch(raw):
            try:
                return int(raw), None
            except ValueError:  # more digits than Python converts
                pass
        return None, f"{raw!r} is not an integer"
    if kind == "number":
        if _NUMBER.fullmatch(raw) and math.isfinite(number := float(raw)):
            return number, None
        return None, f"{raw!r} is not a number"
    if kind == "boolean":
        if raw in _BOOLEANS:
            return _BOOLEANS[raw], None
        return None, f"{raw!r} is not a boolean (true or false)"
    return raw, None


def _first_error(validator: Draft202012Validator, value: Any) -> str | None:
    if validator.is_valid(value):
        return None
    error = sorted(validator.iter_errors(value), key=lambda e: -len(e.absolute_path))[0]
    return _named(error)[1]


def _named(error: ValidationError) -> tuple[str, str]:
    """(where, why) of a schema error, located at the field it is about: a missing property is named,
    not its parent."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            return ".".join([*path, missing[0]]), "is required but missing"
    return ".".join(path), error.message


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise _Unreadable(f"the name {_printable(name)!r} is given twice in one object")
        found[name] = value
    return found


def _no_constant(name: str) -> Any:
    raise _Unreadable(f"{name} is not a JSON value")


def _lone_surrogate(body: dict[str, Any]) -> str | None:
    """Where the first string or name holding a lone surrogate is, or None (iterative: a body may nest
    as deep as the parser allows, deeper than the stack left to a recursive walk)."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, str):
            if _has_lone_surrogate(node):
                return where
        elif isinstance(node, dict):
            for name, value in reversed(node.items()):
                here = f"{where}.{name}" if where else name
                if _has_lone_surrogate(name):
                    return here
                stack.append((here, value))
        elif isinstance(node, list):
            stack.extend((f"{where}[{index}]", value) for index, value in reversed(list(enumerate(node))))
    return None


def _has_lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _printable(text: str) -> str:
    """`text` safe to put in a message: a lone surrogate as its `\\udXXX` escape, not as itself."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
