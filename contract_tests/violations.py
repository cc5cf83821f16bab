"""How a check says "the implementation breaks requirement X": a `ContractViolation` naming the id, what
was expected, what was seen and the request that showed it (as a curl command anyone can re-run).

The exception carries a `Violation` (plain data: what the report, JSON and JUnit XML show), so the
report never has to know about exceptions, and `violations_in` finds every violation inside whatever a
test raised (hypothesis wraps them in exception groups, fixtures in causes).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contract_tests.evidence import observe

if TYPE_CHECKING:
    import httpx

__all__ = ["ContractViolation", "Violation", "check", "curl", "describe_response", "violations_in"]

_HIDDEN_HEADERS = {"host", "content-length", "accept-encoding", "connection", "user-agent"}


def curl(request: httpx.Request | None, *, redact: bool = True) -> str:
    """A curl command that sends `request` again.

    The bearer token is replaced by `$A2V_TOKEN` (reports end up in CI artifacts): set that variable
    to the key the kit used before pasting the command.
    """
    if request is None:
        return ""
    parts = ["curl", "-i", "-X", shlex.quote(request.method)]
    for name, value in request.headers.items():
        if name.lower() in _HIDDEN_HEADERS:
            continue
        if redact and name.lower() == "authorization" and value.lower().startswith("bearer "):
            parts += ["-H", '"Authorization: Bearer $A2V_TOKEN"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    try:
        body = request.content
    except Exception:  # a streaming body that was not read
        body = b""
    if body:
        parts += ["--data-binary", shlex.quote(body.decode("utf-8", "replace"))]
    parts.append(shlex.quote(str(request.url)))
    return " ".join(parts)


def describe_response(response: httpx.Response | None, limit: int = 400) -> str:
    if response is None:
        return ""
    kind = response.headers.get("content-type", "")
    if kind.startswith(("application/json", "text/")):
        body = response.text[:limit]
    else:
        body = f"<{len(response.content)} bytes of {kind or 'unknown type'}>"
    return f"HTTP {response.status_code} {body}"


@dataclass(frozen=True)
class Violation:
    """The evidence that `requirement` is broken: what was expected, what came back, how to replay it."""

    requirement: str
    message: str
    expected: str = ""
    got: str = ""
    curl: str = ""


class ContractViolation(AssertionError):
    """The implementation broke `requirement`. Raised by checks; the report attributes it to the id."""

    def __init__(
        self,
        requirement: str,
        message: str,
        *,
        expected: str = "",
        response: httpx.Response | None = None,
        request: httpx.Request | None = None,
        curl_command: str | None = None,
    ) -> None:
        self.requirement = requirement
        self.detail = message
        self.expected = expected
        if request is None and response is not None:
            request = response.request
        self.curl = curl_command if curl_command is not None else curl(request)
        self.seen = describe_response(response)
        lines = [f"[{requirement}] {message}"]
        if expected:
            lines.append(f"  expected: {expected}")
        if self.seen:
            lines.append(f"  got:      {self.seen}")
        if self.curl:
            lines.append(f"  request:  {self.curl}")
        super().__init__("\n".join(lines))

    @property
    def violation(self) -> Violation:
        return Violation(self.requirement, self.detail, self.expected, self.seen, self.curl)


def check(condition: object, requirement: str, message: str, **kwargs: Any) -> None:
    """Raise `ContractViolation(requirement, message, ...)` unless `condition` holds.

    A condition that holds is one observation supporting `requirement` (see `contract_tests.evidence`).
    """
    if not condition:
        raise ContractViolation(requirement, message, **kwargs)
    observe(requirement)


def violations_in(exc: BaseException | None) -> list[ContractViolation]:
    """Every ContractViolation inside `exc`, looking through exception groups, causes and contexts."""
    found: list[ContractViolation] = []
    seen: set[int] = set()

    def walk(err: BaseException | None) -> None:
        if err is None or id(err) in seen:
            return
        seen.add(id(err))
        if isinstance(err, ContractViolation):
            found.append(err)
            return
        if isinstance(err, BaseExceptionGroup):
            for inner in err.exceptions:
                walk(inner)
        walk(err.__cause__)
        walk(err.__context__)

    walk(exc)
    return found
