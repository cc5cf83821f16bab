"""Does a request match the spec? The problems of one request, each with the answer the spec demands.

The rules are `a2v_spec.RequestRules`, the very ones the mock refuses requests by, so the proxy never
flags an exchange the mock answered 2xx, nor lets pass one it refused. This module adds what only the
kit knows: which requirement each broken rule is evidence for. Both sides use it: a request with a
problem breaks A2V-CLIENT-REQUEST-SCHEMA, and the server must refuse it: with exactly the documented
status and code when the request has one kind of problem (otherwise with some 4xx,
A2V-FUZZ-NEGATIVE-REJECTED).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from a2v_spec import ErrorCode, Refusal, Rule
from contract_tests.requirement_ids import Req

if TYPE_CHECKING:
    from a2v_spec import Operation, Spec
    from contract_tests.proxy.exchange import Exchange

__all__ = ["Problem", "problems"]

#: The requirement a refusal of each rule is evidence for.
REQUIREMENTS = {
    Rule.AUTH: Req.AUTH_REQUIRED,
    Rule.PARAMETER: Req.ERROR_BAD_REQUEST,
    Rule.SIZE: Req.ERROR_PAYLOAD_TOO_LARGE,
    Rule.CONTENT_TYPE: Req.ERROR_BAD_REQUEST,
    Rule.MALFORMED: Req.ERROR_BAD_REQUEST,
}


@dataclass(frozen=True)
class Problem:
    """One broken rule of a request: its kind (a `Rule`, or `route`), the answer it demands, and the
    requirement that answer is checked under."""

    kind: str
    message: str
    status: int
    code: ErrorCode
    requirement: str

    @classmethod
    def of(cls, refusal: Refusal) -> Problem:
        return cls(
            str(refusal.rule), refusal.message, refusal.status, refusal.code, REQUIREMENTS[refusal.rule]
        )


def _route(message: str, status: int, code: ErrorCode) -> Problem:
    return Problem("route", message, status, code, Req.ERROR_ROUTING)


def problems(exchange: Exchange, spec: Spec) -> tuple[Operation | None, list[Problem]]:
    """The operation the request is for (None when it is for no operation) and what is wrong with it."""
    op = spec.find(exchange.method, exchange.path)
    if op is None:
        if exchange.path in spec.paths():
            return None, [
                _route(
                    f"{exchange.method} is not a method of {exchange.path}", 405, ErrorCode.METHOD_NOT_ALLOWED
                )
            ]
        return None, [_route(f"no operation has the path {exchange.path}", 404, ErrorCode.NOT_FOUND)]
    rules = spec.request_rules
    found: list[Refusal] = []
    refusal = rules.auth(op, exchange.header("authorization"))
    if refusal is not None:
        found.append(refusal)
    found += rules.parameters(op, exchange.query, exchange.request_headers).refusals
    if op.body_pointer is not None:
        body = rules.body(op, exchange.header("content-type"), exchange.request_body, exchange.request_size)
        if body.refusal is not None:
            found.append(body.refusal)
    return op, [Problem.of(r) for r in found]
