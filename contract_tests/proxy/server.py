"""Judging one API answer on its own: schema, status, content type, headers, and the demanded refusals.

The checks are the kit's (`contract_tests.checks.support.conforms`, `expect_error`,
`envelope_code_matches`), run on the exchange as an `httpx.Response`, so a proxied answer is
held to exactly what a kit run would hold it to, under the same requirement ids.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from a2v_spec import ErrorCode
from contract_tests.checks.check_api import RATE_HEADERS
from contract_tests.checks.support import (
    PAGE_RULE,
    conforms,
    envelope_code_matches,
    expect_error,
    page_problem,
)
from contract_tests.proxy.urls import FILE_FIELDS, objects
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from a2v_spec import Operation, Spec
    from contract_tests.proxy.exchange import Exchange
    from contract_tests.proxy.requests import Problem

__all__ = ["SchemaVerdicts", "judge_answer"]

#: Which requirement a schema mismatch in an operation's data breaks (the kit's attribution).
_SCHEMA_IDS = {
    "ping": Req.PING,
    "login": Req.LOGIN,
    "listCharacters": Req.CHARACTERS,
    "getVideo": Req.LIFECYCLE_SHAPE,
    "listVideos": Req.LIFECYCLE_LIST,
}
#: Which requirement a wrong error code breaks, by operation and HTTP status.
_CODE_IDS = {("generateVideo", 404): Req.ERROR_UNKNOWN_MODEL, ("login", 401): Req.LOGIN}
_NOT_ENVELOPE = "the answer is not the envelope"


class SchemaVerdicts:
    """Schema verdicts of answer bodies, remembered by (operation, status, body).

    Validation is the judge's main cost, and a pure function of those three: a client polling a task
    or listing characters gets the same bytes again and again, judged once.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, int, bytes], list[tuple[str, str, str]]] = OrderedDict()

    def verdict(self, spec: Spec, operation_id: str, status: int, body: bytes) -> list[tuple[str, str, str]]:
        key = (operation_id, status, body)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = _schema_findings(spec, operation_id, status, body)
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return found


def _schema_findings(spec: Spec, operation_id: str, status: int, body: bytes) -> list[tuple[str, str, str]]:
    """(requirement, message, expected) of every schema problem of one answer body (the kit's checks)."""
    # Only the body matters here; the request is a placeholder (the caller adds the real exchange).
    response = httpx.Response(
        status,
        content=body,
        headers={"content-type": "application/json"},
        request=httpx.Request("GET", "http://a2v.invalid/"),
    )
    try:
        document = response.json()
    except ValueError:
        document = None
    problem = _envelope_problem(document)
    if problem:
        return [
            (
                Req.FUZZ_RESPONSE_SCHEMA,
                f"{_NOT_ENVELOPE}: {problem}",
                '{"code": int, "message": str, "data": ...}',
            )
        ]
    rid = _SCHEMA_IDS.get(operation_id, Req.FUZZ_RESPONSE_SCHEMA) if status < 400 else None
    try:
        conforms(response, spec, operation_id, rid or Req.FUZZ_RESPONSE_SCHEMA)
    except ContractViolation as err:
        return [(err.requirement, err.detail, err.expected)]
    return []


def judge_answer(
    exchange: Exchange, spec: Spec, op: Operation | None, problems: list[Problem], schemas: SchemaVerdicts
) -> Iterator[ContractViolation]:
    """Every violation in one API answer (the request's `problems` decide which refusal it must be)."""
    response = exchange.as_response()
    if exchange.upstream_error:
        yield ContractViolation(
            Req.FUZZ_NO_SERVER_ERROR, f"no answer: {exchange.upstream_error}", expected="an HTTP answer"
        )
        return
    if exchange.method == "HEAD" or not exchange.response_complete:
        return
    if exchange.status >= 500 and not (
        exchange.status == 503 and _code(exchange) == ErrorCode.QUEUE_FULL and op is not None
    ):
        yield ContractViolation(
            Req.FUZZ_NO_SERVER_ERROR,
            f"the service failed with HTTP {exchange.status}",
            expected="no 5xx other than 503 / 1010 on video.generate",
            response=response,
        )
    kind = exchange.header("content-type", response=True) or ""
    if not kind.startswith("application/json"):
        yield ContractViolation(
            Req.FUZZ_CONTENT_TYPE,
            f"Content-Type is {kind!r}",
            expected="application/json",
            response=response,
        )
    required, optional = _documented_headers(spec, op, exchange.status)
    for name in required:
        value = exchange.header(name, response=True)
        if value is None or not value.strip().isdigit():
            yield ContractViolation(
                Req.RATELIMIT_HEADERS,
                f"{name} is {'missing' if value is None else f'not a non-negative integer: {value!r}'}",
                expected=f"{name}: <integer>",
                response=response,
            )
    for name in optional:  # judged when present (`X-Total-Count` of video.list)
        value = exchange.header(name, response=True)
        if value is not None and not value.strip().isdigit():
            rid = _SCHEMA_IDS.get(op.operation_id, Req.FUZZ_RESPONSE_SCHEMA) if op else None
            yield ContractViolation(
                rid or Req.FUZZ_RESPONSE_SCHEMA,
                f"{name} is not a non-negative integer: {value!r}",
                expected=f"{name}: <integer>, or no {name} header",
                response=response,
            )
    if problems:
        yield from _refusal(response, spec, problems)
        return
    yield from _conformance(exchange, response, spec, op, schemas)


def _refusal(response: httpx.Response, spec: Spec, problems: list[Problem]) -> Iterator[ContractViolation]:
    single = len({p.kind for p in problems}) == 1
    if response.status_code < 400:
        # One clear problem is the id that names it (as the kit's own checks); a bad parameter, or
        # several problems at once, is the fuzzing layer's negative-data rule.
        rid = problems[0].requirement if single and problems[0].kind != "parameter" else None
        yield ContractViolation(
            rid or Req.FUZZ_NEGATIVE_REJECTED,
            f"a request that breaks the spec was accepted ({problems[0].message})",
            expected=f"HTTP {problems[0].status} / {int(problems[0].code)}" if rid else "a 4xx refusal",
            response=response,
        )
        return
    if single:
        first = problems[0]
        try:
            expect_error(response, first.requirement, first.code, spec)
        except ContractViolation as err:
            yield _because(err, first.message)
        return
    error = envelope_code_matches(response, spec) if response.status_code < 500 else None
    if error:
        yield ContractViolation(Req.ENVELOPE_ERROR_CODE, error, response=response)


def _because(err: ContractViolation, why: str) -> ContractViolation:
    return ContractViolation(
        err.requirement, f"{err.detail} for a request where {why}", expected=err.expected
    )


def _conformance(
    exchange: Exchange, response: httpx.Response, spec: Spec, op: Operation | None, schemas: SchemaVerdicts
) -> Iterator[ContractViolation]:
    if op is None:
        return
    if op.operation_id == "ping" and exchange.status != 200:
        yield ContractViolation(
            Req.PING, f"ping answered HTTP {exchange.status}", expected="HTTP 200", response=response
        )
    if str(exchange.status) not in op.responses and f"{str(exchange.status)[0]}XX" not in op.responses:
        yield ContractViolation(
            Req.FUZZ_STATUS_CODE,
            f"{op.operation_id} documents no HTTP {exchange.status}",
            expected=f"one of {', '.join(op.responses)}",
            response=response,
        )
        return
    findings = schemas.verdict(spec, op.operation_id, exchange.status, exchange.response_body)
    for rid, message, expected in findings:
        yield ContractViolation(rid, message, expected=expected, response=response)
    if findings and findings[0][1].startswith(_NOT_ENVELOPE):
        return
    body = exchange.json()
    if exchange.status >= 400:
        error = envelope_code_matches(response, spec)
        if error:
            yield ContractViolation(Req.ENVELOPE_ERROR_CODE, error, response=response)
            return
        documented = _documented_codes(spec, op, exchange.status)
        code = _code(exchange)
        if documented and code not in documented:
            yield ContractViolation(
                _CODE_IDS.get((op.operation_id, exchange.status), Req.ENVELOPE_ERROR_CODE),
                f"{op.operation_id} answered HTTP {exchange.status} with code {code}",
                expected=f"code {' or '.join(str(c) for c in sorted(documented))} (the spec's examples)",
                response=response,
            )
    if op.operation_id == "listCharacters" and exchange.status == 200:
        yield from _characters(body, response)
    if op.operation_id == "listVideos" and exchange.status == 200 and isinstance(body.get("data"), list):
        total = exchange.header("X-Total-Count", response=True)
        if total is not None and not total.strip().isdigit():
            total = None  # judged above as a header
        problem = page_problem(spec, len(body["data"]), dict(exchange.params), total)
        if problem:
            yield ContractViolation(
                Req.LIFECYCLE_LIST,
                f"video.list: {problem}",
                expected=PAGE_RULE,
                response=response,
            )
    if exchange.status == 200:
        yield from _unsigned(body, response)


def _characters(body: Any, response: httpx.Response) -> Iterator[ContractViolation]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not data:
        yield ContractViolation(Req.CHARACTERS, "character.list returned no character", response=response)
        return
    ids = [c.get("model_id") for c in data if isinstance(c, dict)]
    if len(ids) != len(set(ids)):
        yield ContractViolation(Req.CHARACTERS, f"model_ids repeat: {ids}", response=response)


def _envelope_problem(document: Any) -> str | None:
    """What keeps `document` from being the envelope every JSON answer has (the spec's description)."""
    if not isinstance(document, dict):
        return f"a JSON {type(document).__name__}, not an object" if document is not None else "not JSON"
    code = document.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        return f"code is {code!r}, not an integer"
    if not isinstance(document.get("message"), str):
        return f"message is {document.get('message')!r}, not a string"
    if "data" not in document:
        return "data is missing"
    return None


def _documented_headers(
    spec: Spec, op: Operation | None, status: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(required, optional integer) headers the spec documents on this answer: required the rate-limit
    trio, and `Retry-After` on 429 and 503 (all integers); optional `X-Total-Count` on video.list. An
    answer no operation documents still owes the rate-limit headers."""
    if op is None:
        return RATE_HEADERS, ()
    responses = spec.document["paths"][op.path][op.method]["responses"]
    node = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if node is None:
        return RATE_HEADERS, ()
    headers = {name: spec.resolve(h) for name, h in spec.resolve(node).get("headers", {}).items()}
    return (
        tuple(name for name, header in headers.items() if header.get("required")),
        tuple(
            name
            for name, header in headers.items()
            if not header.get("required") and spec.resolve(header.get("schema", {})).get("type") == "integer"
        ),
    )


def _unsigned(body: Any, response: httpx.Response) -> Iterator[ContractViolation]:
    """File URLs carry their signature in the query (`Expires`, `Signature`, or the store's own)."""
    for item in objects(body):
        for name in FILE_FIELDS:
            url = item.get(name)
            if isinstance(url, str) and url and not urlsplit(url).query:
                yield ContractViolation(
                    Req.FILE_EXPIRES,
                    f"{name} {url!r} carries no signature",
                    expected="a signed, expiring URL",
                    response=response,
                )


def _code(exchange: Exchange) -> Any:
    body = exchange.json()
    return body.get("code") if isinstance(body, dict) else None


def _documented_codes(spec: Spec, op: Operation, status: int) -> set[int]:
    """The envelope codes the spec's examples show for this operation and status."""
    responses = spec.document["paths"][op.path][op.method]["responses"]
    node = responses.get(str(status))
    if node is None:
        return set()
    content = spec.resolve(node).get("content", {}).get("application/json", {})
    examples = [content.get("example")] + [e.get("value") for e in content.get("examples", {}).values()]
    return {e["code"] for e in examples if isinstance(e, dict) and isinstance(e.get("code"), int)}
