"""`--record DIR`: the exchanges as JSON lines, tokens replaced by tenant ids, bodies capped.

`DIR/exchanges.jsonl` gets one object per exchange (the format `mock_server.tasks.replay` reads):

    {"seq": 3, "at": 1764237600.25, "duration": 0.004, "tenant": "tenant-5d41402abc",
     "request": {"method": "GET", "path": "/v1/a2v/video.get", "query": "video_id=...",
                 "headers": [["authorization", "Bearer tenant-5d41402abc"], ...], "body": null, "size": 0},
     "response": {"status": 200, "headers": [...], "body": "{\"code\": 0, ...}", "size": 312},
     "upstream_url": "http://127.0.0.1:8000/v1/a2v/video.get?video_id=...", "file": null}

Bodies are kept as text when they are JSON or text, up to `body_limit` bytes (`"truncated": true`
then); media are not inlined: with `--record-files` a complete download of a result file is written to
`DIR/files/` and named in `"file"`. Every secret the proxy knows (bearer tokens, tokens a login
returned) is replaced by its tenant id wherever it appears.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from contract_tests.proxy.exchange import redact, tenant_of

if TYPE_CHECKING:
    from contract_tests.proxy.exchange import Exchange

__all__ = ["EXCHANGES", "FILES", "Recorder"]

EXCHANGES = "exchanges.jsonl"
FILES = "files"
_TEXT_TYPES = ("application/json", "text/")


class Recorder:
    def __init__(self, directory: Path, *, files: bool = False, body_limit: int = 65536) -> None:
        self.directory = directory
        self.files = files
        self.body_limit = body_limit
        directory.mkdir(parents=True, exist_ok=True)
        if files:
            (directory / FILES).mkdir(exist_ok=True)
        self._out: IO[str] = (directory / EXCHANGES).open("a", encoding="utf-8")
        self.count = 0

    def close(self) -> None:
        self._out.close()

    def record(self, exchange: Exchange, secrets: frozenset[str]) -> None:
        def hide(text: str) -> str:
            return redact(text, secrets, tenant_of)

        entry: dict[str, Any] = {
            "seq": exchange.seq,
            "at": round(exchange.wall, 4),
            "duration": round(exchange.duration, 4),
            "tenant": exchange.tenant,
            "client_gave_up": exchange.client_gave_up,
            "upstream_error": exchange.upstream_error,
            "request": {
                "method": exchange.method,
                "path": exchange.path,
                "query": hide(exchange.query),
                "headers": [[k, hide(v)] for k, v in exchange.request_headers],
                **self._body(
                    exchange.request_body, exchange.header("content-type"), exchange.request_size, hide
                ),
            },
            "response": {
                "status": exchange.status,
                "headers": [[k, hide(v)] for k, v in exchange.response_headers],
                **self._body(
                    exchange.response_body,
                    exchange.header("content-type", response=True),
                    exchange.response_size,
                    hide,
                ),
            },
            "upstream_url": hide(exchange.upstream_url),
            "file": self._file(exchange),
        }
        self._out.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._out.flush()
        self.count += 1

    def _body(self, body: bytes, kind: str | None, size: int, hide: Any) -> dict[str, Any]:
        if not body or not (kind or "").startswith(_TEXT_TYPES):
            return {"body": None, "size": size}
        # Hide secrets before cutting, so a token split by the cut cannot survive in part.
        text = hide(body.decode("utf-8", "replace"))
        return {
            "body": text[: self.body_limit],
            "size": size,
            "truncated": size > min(len(body), self.body_limit),
        }

    def _file(self, exchange: Exchange) -> str | None:
        if (
            not self.files
            or not exchange.file_path
            or exchange.status != 200
            or not exchange.response_complete
        ):
            return None
        name = PurePosixPath(urlsplit(exchange.upstream_url).path).name
        if not name or name in (".", ".."):
            return None
        target = self.directory / FILES / name
        target.write_bytes(exchange.response_body)
        return f"{FILES}/{name}"
