"""The admin API under `/__admin`: reset, journal, scenario, tasks, callbacks.

JSON in the API's envelope. Protected by `Authorization: Bearer <admin_key>` when an admin key is set.
`tenant` parameters accept a tenant id or a token (a login token resolves to its user's tenant).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from mock_server.auth import bearer_token
from mock_server.errors import ApiError, envelope_bytes

if TYPE_CHECKING:
    from starlette.requests import Request

    from mock_server.app import Mock

__all__ = ["routes"]

_FORCE_STATUSES = ("in_progressing", "finished", "error")


def _ok(data: Any) -> Response:
    return Response(envelope_bytes(0, "success", data), media_type="application/json")


def _mock(request: Request) -> Mock:
    mock: Mock = request.app.state.mock
    key = mock.settings.admin_key
    if key is not None and bearer_token(request.headers.get("authorization")) != key:
        raise ApiError(1001, "the admin API needs 'Authorization: Bearer <admin key>'")
    return mock


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise ApiError(1004, f"request body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise ApiError(1004, f"request body must be a JSON object, got {type(body).__name__}")
    return body


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(1003, f"invalid parameter '{name}': {raw!r} is not an integer") from None


def _tenant(mock: Mock, value: str | None) -> str | None:
    return None if not value else mock.auth.tenant_of(value)


async def reset(request: Request) -> Response:
    mock = _mock(request)
    body = await _json(request)
    tenant = body.get("tenant")
    if tenant is not None and not isinstance(tenant, str):
        raise ApiError(1003, "invalid parameter 'tenant': must be a string")
    await mock.reset(_tenant(mock, tenant))
    return _ok({"reset": tenant or "all"})


async def journal(request: Request) -> Response:
    mock = _mock(request)
    q = request.query_params
    entries = mock.journal.query(
        tenant=_tenant(mock, q.get("tenant")),
        method=q.get("method") or None,
        path=q.get("path") or None,
        status=_int(request, "status"),
        limit=_int(request, "limit"),
    )
    return _ok(entries)


async def scenario(request: Request) -> Response:
    mock = _mock(request)
    if request.method == "PUT":
        try:
            mock.scenario.merge(await _json(request))
        except (ValueError, TypeError) as err:
            raise ApiError(1003, f"invalid scenario: {err}") from None
        mock.apply_scenario()
    return _ok(mock.scenario.to_dict())


def _task_row(mock: Mock, task: Any, base: str) -> dict[str, Any]:
    from mock_server.api import video_view

    return {
        **video_view(mock, task, base),
        "tenant": task.tenant,
        "plan": {k: v for k, v in task.plan.items() if k != "base_url"},
    }


async def tasks(request: Request) -> Response:
    mock = _mock(request)
    items, _ = mock.store.list_tasks(
        _tenant(mock, request.query_params.get("tenant")), request.query_params.get("status"), limit=10_000
    )
    base = str(request.base_url).rstrip("/")
    return _ok([_task_row(mock, t, base) for t in items])


async def force_task(request: Request) -> Response:
    mock = _mock(request)
    video_id = request.path_params["video_id"]
    body = await _json(request)
    status = body.get("status")
    if status not in _FORCE_STATUSES:
        raise ApiError(
            1003, f"invalid parameter 'status': must be one of {', '.join(_FORCE_STATUSES)}, got {status!r}"
        )
    task = mock.store.get_task(video_id)
    if task is None:
        raise ApiError(20002, f"unknown video_id {video_id!r}")
    if status == "in_progressing":
        progress = body.get("progress", 1)
        if not isinstance(progress, int) or not 1 <= progress <= 99:
            raise ApiError(1003, f"invalid parameter 'progress': must be an integer 1-99, got {progress!r}")
        moved = mock.store.advance(video_id, "in_progressing", progress=progress)
    else:
        error = None
        if status == "error":
            code = body.get("error_code", 1500)
            if mock.spec.schemas.errors("/components/schemas/TaskErrorCode", code):
                raise ApiError(1003, f"invalid parameter 'error_code': {code!r} cannot end a task")
            error = (
                code,
                str(body.get("message") or f"{mock.errors.message(code)} (forced through the admin API)"),
            )
        duration = body.get("duration")
        if duration is not None and (not isinstance(duration, int | float) or not 0 <= duration <= 600):
            raise ApiError(1003, f"invalid parameter 'duration': must be 0-600 seconds, got {duration!r}")
        if task.terminal:
            moved = None
        elif status == "finished" and not mock.runner.has_files(video_id):
            # A finished task must have files: render `duration` seconds of silence for it.
            await mock.runner.cancel(video_id)
            try:
                rendered = await mock.runner.render_placeholder(video_id, float(duration or 1.0))
            except Exception:
                mock.runner.start(video_id)  # leave it running rather than stuck
                raise
            moved = await mock.runner.end(video_id, "finished", duration=rendered)
        else:
            moved = await mock.runner.end(video_id, status, error, duration=duration)
            if moved is not None:
                await mock.runner.cancel(video_id)
    if moved is None:
        raise ApiError(
            1003,
            f"cannot move task {video_id} from {task.status!r} to {status!r}: statuses only move forward",
        )
    return _ok(_task_row(mock, moved, str(request.base_url).rstrip("/")))


async def callbacks(request: Request) -> Response:
    mock = _mock(request)
    q = request.query_params
    return _ok(mock.store.deliveries(_tenant(mock, q.get("tenant")), q.get("video_id") or None))


routes = [
    Route("/reset", reset, methods=["POST"]),
    Route("/journal", journal, methods=["GET"]),
    Route("/scenario", scenario, methods=["GET", "PUT"]),
    Route("/tasks", tasks, methods=["GET"]),
    Route("/tasks/{video_id}", force_task, methods=["POST"]),
    Route("/callbacks", callbacks, methods=["GET"]),
]
