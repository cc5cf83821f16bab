"""Admin calls for people and their tools (the console, WireMock habits): who is here, what was asked.

    GET  /__admin/info                 mode, version, built-in samples, codes that can end a task
    GET  /__admin/tenants              every tenant seen, by label, with task counts
    POST /__admin/tenants/label        {"token": ...} -> {"tenant": label}: which tenant a token is
    GET  /__admin/requests             the journal (WireMock's shape), newest first, filtered
    GET  /__admin/requests/count       how many entries match the same filters
    POST /__admin/uploads?name=a.wav   raw bytes in; a signed URL the mock can fetch them back from

Tenants are shown by label (`mock_server.redact`), never by token; every `tenant` parameter of the admin
API also accepts a label. Bodies are recorded without their credentials (`redact.redact_body`: the login's
password and tokens). Filters of `requests`: `tenant`, `method`, `path` (exact, or a prefix ending in
`*`), `status`, `code`, `contains` (substring of either body, as shown), `since` (unix time), `limit`.

`GET /__admin/requests` is the one journal endpoint, in WireMock's shape: `data` is
`{"requests": [...newest first...], "meta": {"total": N}}`, `total` counting the matches before `limit`
(the newest N) cut them, and each entry's `request` (`method`, `url` = path and query, `headers`, `body`,
`loggedDate` in ms since the epoch) and `response` (`status`, `headers`, `body`) named as WireMock's are,
with `truncated` and `size` for the capped bodies, beside the short fields (`id`, `time`, `tenant`,
`method`, `path`, `query`, `status`, `code`, `duration_ms`). Where it differs from WireMock: the answer is
in the API's envelope (`{"code": 0, "message": "success", "data": ...}`) like every admin call; filters
are query parameters (WireMock's `since` and `limit` are, its matching is a posted request pattern);
`since` is a unix time, not an ISO date; ids are integers, not UUIDs; there is no `responseDefinition`,
`wasMatched` or `requestJournalDisabled` (there are no stubs to match, and the journal is always on).
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any, Protocol

from starlette.routing import Route

from a2v_spec import ErrorCode
from a2v_spec.pointer import resolve_pointer
from a2v_spec.version import kit_version
from mock_server.admin.endpoints import AdminServices, _int, _json, _ok
from mock_server.admin.tenants import known_tenants, resolve_tenant
from mock_server.errors import ApiError
from mock_server.files.protocol import AUDIO_TYPES
from mock_server.redact import tenant_label
from mock_server.tasks.samples import SAMPLES, Samples

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from starlette.requests import Request
    from starlette.responses import Response

    from mock_server.files import FileStore, Signer

__all__ = ["UPLOAD_SUFFIXES", "AdminViews", "ViewServices"]

#: File types an upload may have: the audio the file store serves (what the renderer decodes).
UPLOAD_SUFFIXES = AUDIO_TYPES
_UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


class ViewServices(AdminServices, Protocol):
    """What these views use beyond the admin API's services: the file store and the signer."""

    files: FileStore
    signer: Signer


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _wiremock(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry (`Journal.query(bodies=True)`) with `request` and `response` named as WireMock's
    logged request and response are (see the module's docstring)."""
    url = entry["path"] + (f"?{entry['query']}" if entry["query"] else "")
    request = {"method": entry["method"], "url": url, **entry["request"]}
    request["loggedDate"] = round(entry["time"] * 1000)
    return {**entry, "request": request, "response": {"status": entry["status"], **entry["response"]}}


class AdminViews:
    """The calls above, each a small task over `ViewServices` (like `admin.AdminApi`)."""

    def __init__(self, services: ViewServices, authorize: Callable[[Request], None]) -> None:
        self.s = services
        self._authorize = authorize

    def routes(self) -> list[Route]:
        return [
            Route("/info", self.info, methods=["GET"]),
            Route("/tenants", self.tenants, methods=["GET"]),
            Route("/tenants/label", self.label, methods=["POST"]),
            Route("/requests", self.requests, methods=["GET"]),
            Route("/requests/count", self.requests_count, methods=["GET"]),
            Route("/uploads", self.upload, methods=["POST"]),
        ]

    async def info(self, request: Request) -> Response:
        self._authorize(request)
        urls = Samples.urls(_base(request))
        task_codes = resolve_pointer(self.s.spec.document, "/components/schemas/TaskErrorCode")["enum"]
        return _ok(
            {
                "version": kit_version(),
                "mode": "open" if self.s.settings.open_mode else "keyed",
                "admin_key_required": self.s.settings.admin_key is not None,
                "test_mode": self.s.settings.test_mode,
                "samples": [
                    {"name": s.name, "url": urls[s.name], "seconds": s.seconds, "description": s.description}
                    for s in SAMPLES.values()
                ],
                "task_error_codes": [
                    {"code": c, "message": self.s.errors.message(ErrorCode(c))} for c in task_codes
                ],
            }
        )

    async def tenants(self, request: Request) -> Response:
        self._authorize(request)
        rows = [{"tenant": tenant_label(t), **counts} for t, counts in (await known_tenants(self.s)).items()]
        return _ok(sorted(rows, key=lambda r: -r["last"]))

    async def label(self, request: Request) -> Response:
        self._authorize(request)
        token = (await _json(request, self.s.limits.max_request_bytes)).get("token")
        if not isinstance(token, str) or not token:
            raise ApiError(
                ErrorCode.INVALID_PARAMETER, "invalid parameter 'token': a non-empty string is required"
            )
        return _ok({"tenant": tenant_label(await self.s.auth.tenant_of(token))})

    async def _filters(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        since = q.get("since")
        try:
            since_value = float(since) if since else None
        except ValueError:
            raise ApiError(
                ErrorCode.INVALID_PARAMETER, f"invalid parameter 'since': {since!r} is not a unix time"
            ) from None
        return {
            "tenant": await resolve_tenant(self.s, q.get("tenant")),
            "method": q.get("method") or None,
            "path": q.get("path") or None,
            "status": _int(request, "status"),
            "code": _int(request, "code"),
            "contains": q.get("contains") or None,
            "since": since_value,
        }

    async def _entries(self, request: Request) -> list[dict[str, Any]]:
        """Matching entries; their bodies were recorded with secrets blanked (`journal.Exchange.of`), so
        `contains`, which looks in them, cannot be used to guess a password or a login token either."""
        filters = await self._filters(request)
        contains = filters.pop("contains")
        entries = self.s.journal.query(**filters, bodies=True)
        for entry in entries:
            entry["tenant"] = tenant_label(entry["tenant"])
        if contains is not None:
            entries = [
                e for e in entries if contains in e["request"]["body"] or contains in e["response"]["body"]
            ]
        return entries

    async def requests(self, request: Request) -> Response:
        self._authorize(request)
        entries = await self._entries(request)
        total = len(entries)
        limit = _int(request, "limit")
        if limit is not None:
            if limit < 0:
                raise ApiError(ErrorCode.INVALID_PARAMETER, f"invalid parameter 'limit': {limit} is below 0")
            entries = entries[-limit:] if limit > 0 else []
        return _ok({"requests": [_wiremock(e) for e in reversed(entries)], "meta": {"total": total}})

    async def requests_count(self, request: Request) -> Response:
        self._authorize(request)
        return _ok({"count": len(await self._entries(request))})

    async def upload(self, request: Request) -> Response:
        self._authorize(request)
        name = request.query_params.get("name") or "upload.wav"
        suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if suffix not in UPLOAD_SUFFIXES or not _UPLOAD_NAME.match(name):
            raise ApiError(
                ErrorCode.INVALID_PARAMETER,
                f"invalid parameter 'name': {name!r} must be a plain file name ending in "
                f"{', '.join(sorted(UPLOAD_SUFFIXES))}",
            )
        stored = f"uploads/{secrets.token_hex(8)}{suffix}"
        staging = self.s.files.staging(stored)
        try:
            size = await self._receive(request, staging)
            await self.s.files.put(stored, staging)
        finally:
            staging.unlink(missing_ok=True)
        url, expires = self.s.signer.url(_base(request), f"/files/{stored}")
        return _ok({"name": name, "bytes": size, "url": url, "url_expires_at": expires})

    async def _receive(self, request: Request, staging: Path) -> int:
        """Write the body to `staging` as it arrives, refused with 413/1013 as soon as it is known to be
        over `max_audio_bytes` (by `Content-Length`, or counted while reading): never held whole, and
        the staging file never grows past the limit. Returns the number of bytes."""
        limit = self.s.limits.max_audio_bytes
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            raise ApiError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"the upload is {declared[:20]} bytes; the limit is {limit} (max_audio_bytes)",
            )
        staging.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with staging.open("wb") as handle:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        ErrorCode.PAYLOAD_TOO_LARGE,
                        f"the upload is larger than the limit of {limit} bytes (max_audio_bytes)",
                    )
                handle.write(chunk)
        if not size:
            raise ApiError(
                ErrorCode.MALFORMED_BODY, "the upload is empty: send the file's bytes as the request body"
            )
        return size
