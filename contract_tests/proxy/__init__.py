"""`a2v-contract proxy`: a validating reverse proxy that judges the server AND the client.

Put it between a client app and an A2V service (the real one or `a2v-mock`): every exchange is forwarded
and judged as it passes, the server under the kit's own requirement ids (`contract_tests.requirements`),
the client under `A2V-CLIENT-*` (`contract_tests.proxy.requirements`); `--record DIR` keeps the traffic
for `a2v-mock --replay DIR`. See `docs/proxy.md`.

    app.py          the ASGI app: forward, stream, rewrite file URLs, hand each exchange to the judge
    upstream.py     the lean keep-alive HTTP/1.1 client the requests go upstream with
    exchange.py     one request and its answer, as every judge and the recorder read it
    requests.py     what is wrong with a request (`a2v_spec.RequestRules`, the mock's rules), as requirements
    server.py       one answer on its own (the kit's check functions)
    lifecycle.py    tasks across exchanges: readable, forward, progress, tenants, idempotency
    files.py        downloads: signatures, expiry, Range, the MP4s themselves
    client.py       the client over time: polling, back-off, Retry-After, retries, expired URLs
    urls.py         file URLs rewritten to pass through the proxy, and those handed out
    judge.py        both sides of each exchange, the `TrafficViolation`s found (violations.py)
    record.py       `--record`: exchanges as JSON lines
    report.py       summary, JSON, JUnit XML
    cli.py          `a2v-contract proxy ...`

Example:
    >>> from contract_tests.proxy import ProxyConfig, create_app          # doctest: +SKIP
    >>> app = create_app(ProxyConfig(upstream="http://127.0.0.1:8000"))  # doctest: +SKIP
"""

from __future__ import annotations

from contract_tests.proxy.app import Proxy, ProxyApp, ProxyConfig, create_app
from contract_tests.proxy.report import SessionReport
from contract_tests.proxy.requirements import CLIENT_REQUIREMENTS, SERVER_JUDGED, SERVER_NOT_JUDGED
from contract_tests.proxy.violations import TrafficViolation

__all__ = [
    "CLIENT_REQUIREMENTS",
    "SERVER_JUDGED",
    "SERVER_NOT_JUDGED",
    "Proxy",
    "ProxyApp",
    "ProxyConfig",
    "SessionReport",
    "TrafficViolation",
    "create_app",
]
