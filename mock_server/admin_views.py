"""Admin calls for people and their tools (the console, WireMock habits): who is here, what was asked.

    GET  /__admin/info                 mode, version, built-in samples, codes that can end a task
    GET  /__admin/tenants              every tenant seen, by label, with task counts
    POST /__admin/tenants/label        {"token": ...} -> {"tenant": label}: which tenant a token is
    GET  /__admin/requests             the journal with headers and bodies (capped), filtered
    GET  /__admin/requests/count       how many entries match the same filters
    POST /__admin/uploads?name=a.wav   raw bytes in; a signed URL the mock can fetch them back from

Tenants are shown by label (`mock_server.redact`), never by token; every `tenant` parameter of the admin
API also accepts a label. Filters of `requests`: `tenant`, `method`, `path` (exact, or a prefix ending in
`*`), `status`, `code`, `contains` (substring of either body), `since` (unix time), `limit`.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from starlette.routing import Route

from a2v_spec.pointer import resolve_pointer
from a2v_spec.version import kit_version
from mock_server.admin import _int, _json, _mock, _ok
from mock_server.errors import ApiError
from mock_server.redact import LABEL_PREFIX, tenant_label
from mock_server.samples import SAMPLES, Samples

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from mock_server.app import Mock

__all__ = ["UPLOAD_SUFFIXES", "known_tenants", "resolve_tenant", "routes"]

#: File types an upload may have (what the renderer decodes); the suffix picks the Content-Type.
UPLOAD_SUFFIXES = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
}
_UPLOAD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,80}$")


def known_tenants(mock: Mock) -> dict[str, dict[str, Any]]:
    """Every tenant with a task, a delivery or a journal entry -> its counts (keyed by the raw tenant)."""
    found: dict[str, dict[str, Any]] = {}
    tasks, _ = mock.store.list_tasks(None, None, limit=100_000)
    for task in tasks:
        row = found.setdefault(task.tenant, {"tasks": 0, "unfinished": 0, "last": 0})
        row["tasks"] += 1
        row["unfinished"] += 0 if task.terminal else 1
        row["last"] = max(row["last"], task.updated_at)
    for entry in mock.journal.query():
        if entry["tenant"] is not None:
            row = found.setdefault(entry["tenant"], {"tasks": 0, "unfinished": 0, "last": 0})
            row["last"] = max(row["last"], int(entry["time"]))
    return found


def resolve_tenant(mock: Mock, value: str | None) -> str | None:
    """A tenant id, a token or a label -> the tenant; an unknown label is refused with 1003."""
    if not value:
        return None
    if value.startswith(LABEL_PREFIX):
        for tenant in known_tenants(mock):
            if tenant_label(tenant) == value:
                return tenant
        raise ApiError(1003, f"invalid parameter 'tenant': no tenant is labelled {value!r}")
    return mock.auth.tenant_of(value)


async def info(request: Request) -> Response:
    mock = _mock(request)
    base = str(request.base_url).rstrip("/")
    urls = Samples.urls(base)
    task_codes = resolve_pointer(mock.spec.document, "/components/schemas/TaskErrorCode")["enum"]
    return _ok(
        {
            "version": kit_version(),
            "mode": "open" if mock.settings.open_mode else "keyed",
            "admin_key_required": mock.settings.admin_key is not None,
            "test_mode": mock.settings.test_mode,
            "samples": [
                {"name": s.name, "url": urls[s.name], "seconds": s.seconds, "description": s.description}
                for s in SAMPLES.values()
            ],
            "task_error_codes": [{"code": c, "message": mock.errors.message(c)} for c in task_codes],
        }
    )


async def tenants(request: Request) -> Response:
    mock = _mock(request)
    rows = [{"tenant": tenant_label(t), **counts} for t, counts in known_tenants(mock).items()]
    return _ok(sorted(rows, key=lambda r: -r["last"]))


async def label(request: Request) -> Response:
    mock = _mock(request)
    token = (await _json(request)).get("token")
    if not isinstance(token, str) or not token:
        raise ApiError(1003, "invalid parameter 'token': a non-empty string is required")
    return _ok({"tenant": tenant_label(mock.auth.tenant_of(token))})


def _filters(request: Request, mock: Mock) -> dict[str, Any]:
    q = request.query_params
    since = q.get("since")
    try:
        since_value = float(since) if since else None
    except ValueError:
        raise ApiError(1003, f"invalid parameter 'since': {since!r} is not a unix time") from None
    return {
        "tenant": resolve_tenant(mock, q.get("tenant")),
        "method": q.get("method") or None,
        "path": q.get("path") or None,
        "status": _int(request, "status"),
        "code": _int(request, "code"),
        "contains": q.get("contains") or None,
        "since": since_value,
    }


async def requests(request: Request) -> Response:
    mock = _mock(request)
    filters = {**_filters(request, mock), "limit": _int(request, "limit"), "bodies": True}
    entries = mock.journal.query(**filters)
    return _ok(entries)


async def requests_count(request: Request) -> Response:
    mock = _mock(request)
    return _ok({"count": len(mock.journal.query(**_filters(request, mock)))})


async def upload(request: Request) -> Response:
    mock = _mock(request)
    name = request.query_params.get("name") or "upload.wav"
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in UPLOAD_SUFFIXES or not _UPLOAD_NAME.match(name):
        raise ApiError(
            1003,
            f"invalid parameter 'name': {name!r} must be a plain file name ending in "
            f"{', '.join(sorted(UPLOAD_SUFFIXES))}",
        )
    data = await request.body()
    if not data:
        raise ApiError(1004, "the upload is empty: send the file's bytes as the request body")
    if len(data) > mock.limits.max_audio_bytes:
        raise ApiError(
            1003,
            f"the upload is {len(data)} bytes; the limit is {mock.limits.max_audio_bytes} (max_audio_bytes)",
        )
    stored = f"{secrets.token_hex(8)}{suffix}"
    path = mock.files_root / "uploads" / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    url, expires = mock.signer.url(str(request.base_url).rstrip("/"), f"/files/uploads/{stored}")
    return _ok({"name": name, "bytes": len(data), "url": url, "url_expires_at": expires})


routes = [
    Route("/info", info, methods=["GET"]),
    Route("/tenants", tenants, methods=["GET"]),
    Route("/tenants/label", label, methods=["POST"]),
    Route("/requests", requests, methods=["GET"]),
    Route("/requests/count", requests_count, methods=["GET"]),
    Route("/uploads", upload, methods=["POST"]),
]
