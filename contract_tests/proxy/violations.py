"""A broken rule seen in traffic: which side broke it, under which requirement id, on which exchange.

Not the kit's `contract_tests.violations.Violation` (the evidence a check raised in a kit run): a
`TrafficViolation` also says which side broke the rule, on which exchange, for which tenant; one made
from a kit check is `TrafficViolation.from_kit`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from contract_tests.proxy.exchange import Exchange
    from contract_tests.violations import ContractViolation

__all__ = ["Side", "TrafficViolation"]

Side = Literal["server", "client"]


@dataclass(frozen=True)
class TrafficViolation:
    side: Side
    requirement: str
    message: str
    seq: int
    curl: str
    expected: str = ""
    got: str = ""
    tenant: str | None = None

    @classmethod
    def of(
        cls,
        side: Side,
        requirement: str,
        message: str,
        exchange: Exchange,
        *,
        secrets: frozenset[str] = frozenset(),
        expected: str = "",
    ) -> TrafficViolation:
        return cls(
            side,
            requirement,
            message,
            exchange.seq,
            exchange.curl(secrets),
            expected=expected,
            got=_seen(exchange),
            tenant=exchange.tenant,
        )

    @classmethod
    def from_kit(
        cls, err: ContractViolation, exchange: Exchange, secrets: frozenset[str] = frozenset()
    ) -> TrafficViolation:
        """A violation raised by one of the kit's own check functions, on the exchange it judged."""
        return cls.of("server", err.requirement, err.detail, exchange, secrets=secrets, expected=err.expected)

    def text(self) -> str:
        lines = [f"[{self.side}] {self.requirement} (exchange #{self.seq}): {self.message}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.got:
            lines.append(f"  got:      {self.got}")
        lines.append(f"  request:  {self.curl}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _seen(exchange: Exchange, limit: int = 300) -> str:
    if exchange.upstream_error:
        return f"no answer: {exchange.upstream_error}"
    if exchange.status == 0:
        return "no answer"
    kind = exchange.header("content-type", response=True) or ""
    if kind.startswith(("application/json", "text/")):
        body = exchange.response_body[:limit].decode("utf-8", "replace")
    else:
        body = f"<{exchange.response_size} bytes of {kind or 'unknown type'}>"
    return f"HTTP {exchange.status} {body}"
