"""The judge: every exchange the proxy forwards goes through `Judge.judge`, both sides at once.

It owns the state that spans exchanges (tasks, handed-out URLs, per-token client state, the tokens to
hide) and the list of violations; `on_violation` is called for each as it is found (the CLI prints it).
Media checks run in the background; `drain()` waits for them (before a summary is written).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from contract_tests.proxy.client import ClientJudge
from contract_tests.proxy.files import FileJudge
from contract_tests.proxy.lifecycle import Tasks
from contract_tests.proxy.requests import problems
from contract_tests.proxy.server import SchemaVerdicts, judge_answer
from contract_tests.proxy.violations import TrafficViolation

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from a2v_spec import Spec
    from contract_tests.proxy.client import Finding
    from contract_tests.proxy.exchange import Exchange
    from contract_tests.proxy.urls import FileUrls, HandedOut
    from contract_tests.violations import ContractViolation

__all__ = ["Judge"]

log = logging.getLogger("contract_tests.proxy")


class Judge:
    def __init__(
        self,
        spec: Spec,
        urls: FileUrls,
        *,
        fetch_audio: Callable[[str], Any] | None = None,
        on_violation: Callable[[TrafficViolation], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.urls = urls
        self.tasks = Tasks()
        self.files = FileJudge(self.tasks, fetch_audio)
        self.client = ClientJudge()
        self.schemas = SchemaVerdicts()
        self.violations: list[TrafficViolation] = []
        self.exchanges = 0
        self.by_side: Counter[str] = Counter()
        self.on_violation = on_violation
        self.clock = clock
        self._secrets: set[str] = set()
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    @staticmethod
    def is_api(path: str) -> bool:
        return path.startswith("/v1/")

    def judge(self, exchange: Exchange) -> None:
        """Judge one finished exchange (its media, if any, in the background)."""
        self.exchanges += 1
        token = exchange.token
        if token:
            self._secrets.add(token)
        try:
            if self.is_api(exchange.path):
                self._api(exchange)
            else:
                self._file(exchange)
        except Exception:  # a judge bug must not take the proxy down; it is logged, never silent
            log.exception("judging exchange #%d failed", exchange.seq)

    def _api(self, exchange: Exchange) -> None:
        op, found = problems(exchange, self.spec)
        self._learn_secrets(exchange, op.operation_id if op else None)
        for finding in self.client.judge_api(exchange, op.operation_id if op else None, found, self.secrets):
            self._client(finding, exchange)
        self._server(judge_answer(exchange, self.spec, op, found, self.schemas), exchange)
        if op is not None and not found:
            self._server(self.tasks.judge(exchange, op.operation_id), exchange)

    def abandoned(self, exchange: Exchange) -> None:
        """The client hung up while its request was upstream (called at once, before the answer)."""
        op = self.spec.find(exchange.method, exchange.path)
        if op is not None and op.operation_id == "generateVideo":
            self.client.note_abandoned(exchange)

    def _file(self, exchange: Exchange) -> None:
        if not exchange.file_path:
            return
        known, handed = self.urls.lookup(exchange.upstream_url)
        now = exchange.wall
        for finding in self.client.expired_download(handed, now):
            self._client(finding, exchange, tenant=handed.tenant if handed else None)
        for finding in self.client.token_in_query(exchange, self.secrets):
            self._client(finding, exchange)
        self._server(self.files.judge(exchange, known, handed, now), exchange)
        if handed is not None and self.files.wants_media(exchange, handed):
            self._spawn(self._media(exchange, handed))

    async def _media(self, exchange: Exchange, handed: HandedOut) -> None:
        try:
            self._server(await self.files.judge_media(exchange, handed), exchange)
        except Exception:
            log.exception("judging the media of exchange #%d failed", exchange.seq)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for the media checks still running."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    def _learn_secrets(self, exchange: Exchange, operation_id: str | None) -> None:
        """Tokens handed out by login are secrets too (hidden in reports and recordings)."""
        if operation_id != "login" or exchange.status != 200:
            return
        body = exchange.json()
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict):
            for name in ("access_token", "refresh_token"):
                if isinstance(data.get(name), str) and data[name]:
                    self._secrets.add(data[name])

    # -- reporting -----------------------------------------------------------------------------------
    def _server(self, found: Iterable[ContractViolation], exchange: Exchange) -> None:
        for err in found:
            self._add(TrafficViolation.from_kit(err, exchange, self.secrets))

    def _client(self, finding: Finding, exchange: Exchange, tenant: str | None = None) -> None:
        violation = TrafficViolation.of(
            "client",
            finding.requirement,
            finding.message,
            exchange,
            secrets=self.secrets,
            expected=finding.expected,
        )
        if tenant and not violation.tenant:
            violation = TrafficViolation(**{**violation.as_dict(), "tenant": tenant})
        self._add(violation)

    def _add(self, violation: TrafficViolation) -> None:
        self.violations.append(violation)
        self.by_side[violation.side] += 1
        if self.on_violation is not None:
            self.on_violation(violation)

    def ids(self, side: str) -> set[str]:
        return {v.requirement for v in self.violations if v.side == side}
