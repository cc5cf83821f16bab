"""The admin API under `/__admin`: reset, scenario, tasks, callbacks (the journal: `admin.listings`).

JSON in the API's envelope. Protected by `Authorization: Bearer <admin_key>` when an admin key is set;
in keyed mode without one, off (every call 403/1012, `ADMIN_OFF`); open mode without one, open.
`tenant` parameters accept a tenant id or a token (a login token resolves to its user's tenant). Each
endpoint is a small task over `AdminServices` (WireMock's `AdminTask` over its `Admin` interface).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from starlette.responses import Response
from starlette.routing import Route

from a2v_spec import ErrorCode, Status
from mock_server.admin.tenants import resolve_tenant
from mock_server.api.interfaces import CoreServices
from mock_server.api.validation import json_object, read_body
from mock_server.auth import bearer_token
from mock_server.errors import ApiError, TaskFailure, envelope_bytes
from mock_server.redact import tenant_label

if TYPE_CHECKING:
    from starlette.requests import Request

    from mock_server.admin.journal import Journal
    from mock_server.api.scenario import ScenarioControl
    from mock_server.errors import Errors
    from mock_server.store import Task

__all__ = ["ADMIN_OFF", "AdminApi", "AdminServices"]

#: The answer of every admin call in keyed mode without an admin key (403/1012), saying how to enable it.
ADMIN_OFF = (
    "the admin API is off: this mock is keyed (api_keys) and has no admin key; "
    "start it with --admin-key KEY (or admin_key in the config) and send 'Authorization: Bearer KEY'"
)
_FORCE_STATUSES = (Status.IN_PROGRESSING, Status.FINISHED, Status.ERROR)
_TASK_CODES_POINTER = "/components/schemas/TaskErrorCode"


class AdminServices(CoreServices, Protocol):
    """What the admin API uses of the server, beyond the core."""

    errors: Errors
    journal: Journal
    control: ScenarioControl

    async def reset(self, tenant: str | None = None) -> None: ...


def _ok(data: Any) -> Response:
    return Response(envelope_bytes(ErrorCode.SUCCESS, "success", data), media_type="application/json")


def _invalid(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_PARAMETER, message)


async def _json(request: Request, limit: int) -> dict[str, Any]:
    """The body as the API reads one: over `limit` bytes 1013 (never read whole), not a JSON object
    (whitespace or deep nesting included) 1004; an empty body is `{}`."""
    raw = await read_body(request, limit)
    return json_object(raw) if raw else {}


def _int(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise _invalid(f"invalid parameter '{name}': {raw!r} is not an integer") from None


def _status(raw: str | None) -> Status | None:
    if not raw:
        return None
    try:
        return Status(raw)
    except ValueError:
        raise _invalid(
            f"invalid parameter 'status': must be one of {', '.join(Status)}, got {raw!r}"
        ) from None


class AdminApi:
    def __init__(self, services: AdminServices) -> None:
        self.s = services

    def routes(self) -> list[Route]:
        return [
            Route("/reset", self.reset, methods=["POST"]),
            Route("/scenario", self.scenario, methods=["GET", "PUT"]),
            Route("/tasks", self.tasks, methods=["GET"]),
            Route("/tasks/{video_id}", self.force_task, methods=["POST"]),
            Route("/callbacks", self.callbacks, methods=["GET"]),
        ]

    def authorize(self, request: Request) -> None:
        """Refuse the call without the admin key, when one is set (shared with `admin_views`). In keyed
        mode (a shared sandbox) without an admin key the admin API is off: open, any caller would list
        every tenant's tasks and any tenant could reset everyone's."""
        key = self.s.settings.admin_key
        if key is None and not self.s.settings.open_mode:
            raise ApiError(ErrorCode.FORBIDDEN, ADMIN_OFF)
        if key is not None and bearer_token(request.headers.get("authorization")) != key:
            raise ApiError(ErrorCode.UNAUTHORIZED, "the admin API needs 'Authorization: Bearer <admin key>'")

    async def _json(self, request: Request) -> dict[str, Any]:
        return await _json(request, self.s.limits.max_request_bytes)

    async def _tenant(self, value: str | None) -> str | None:
        """A tenant id, a token or a tenant's label (`tok-...`, as listings show) -> the tenant."""
        return await resolve_tenant(self.s, value)

    def _row(self, task: Task, base: str) -> dict[str, Any]:
        plan = task.plan.to_dict()
        del plan["base_url"]
        return {**self.s.views.video(task, base), "tenant": tenant_label(task.tenant), "plan": plan}

    async def reset(self, request: Request) -> Response:
        self.authorize(request)
        tenant = (await self._json(request)).get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise _invalid("invalid parameter 'tenant': must be a string")
        await self.s.reset(await self._tenant(tenant))
        return _ok({"reset": tenant or "all"})

    async def scenario(self, request: Request) -> Response:
        self.authorize(request)
        if request.method == "PUT":
            changes = await self._json(request)
            try:
                await self.s.control.put(changes)  # shared: every replica applies it from its next request
            except (ValueError, TypeError) as err:
                raise _invalid(f"invalid scenario: {err}") from None
        return _ok(self.s.scenario.to_dict())

    async def tasks(self, request: Request) -> Response:
        self.authorize(request)
        q = request.query_params
        items, _ = await self.s.store.list_tasks(
            await self._tenant(q.get("tenant")), _status(q.get("status")), limit=10_000
        )
        base = str(request.base_url).rstrip("/")
        return _ok([self._row(t, base) for t in items])

    async def force_task(self, request: Request) -> Response:
        self.authorize(request)
        video_id = request.path_params["video_id"]
        body = await self._json(request)
        status = body.get("status")
        if status not in _FORCE_STATUSES:
            allowed = ", ".join(_FORCE_STATUSES)
            raise _invalid(f"invalid parameter 'status': must be one of {allowed}, got {status!r}")
        status = Status(status)
        task = await self.s.store.get_task(video_id)
        if task is None:
            raise ApiError(ErrorCode.VIDEO_NOT_FOUND, f"unknown video_id {video_id!r}")
        if status is Status.IN_PROGRESSING:
            progress = body.get("progress", 1)
            if isinstance(progress, bool) or not isinstance(progress, int) or not 1 <= progress <= 99:
                raise _invalid(f"invalid parameter 'progress': must be an integer 1-99, got {progress!r}")
            moved = await self.s.store.advance(video_id, status, progress=progress)
        else:
            moved = await self._end(task, status, body)
        if moved is None:
            raise _invalid(
                f"cannot move task {video_id} from {str(task.status)!r} to {str(status)!r}:"
                " statuses only move forward"
            )
        return _ok(self._row(moved, str(request.base_url).rstrip("/")))

    async def _end(self, task: Task, status: Status, body: dict[str, Any]) -> Task | None:
        """Finish or fail `task` now (a finished task gets `duration` seconds of silence as its video)."""
        runner, video_id = self.s.runner, task.video_id
        error = None
        if status is Status.ERROR:
            code = body.get("error_code", ErrorCode.INTERNAL_ERROR)
            if self.s.spec.schemas.errors(_TASK_CODES_POINTER, code):
                raise _invalid(f"invalid parameter 'error_code': {code!r} cannot end a task")
            code = ErrorCode(code)
            error = (
                code,
                str(body.get("message") or f"{self.s.errors.message(code)} (forced through the admin API)"),
            )
        duration = body.get("duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float) or not 0 <= duration <= 600
        ):
            raise _invalid(f"invalid parameter 'duration': must be 0-600 seconds, got {duration!r}")
        if task.terminal:
            return None
        if status is Status.FINISHED and not await runner.has_files(video_id):
            await runner.cancel(video_id)
            try:
                rendered = await runner.render_placeholder(video_id, float(duration or 1.0))
            except TaskFailure as failure:
                runner.start(video_id)  # leave it running rather than stuck
                raise ApiError(
                    ErrorCode.INTERNAL_ERROR,
                    f"could not render the video of task {video_id}: {failure.message}",
                ) from failure
            except Exception:
                runner.start(video_id)
                raise
            return await runner.end(video_id, status, duration=rendered)
        moved = await runner.end(video_id, status, error, duration=duration)
        if moved is not None:
            await runner.cancel(video_id)
        return moved

    async def callbacks(self, request: Request) -> Response:
        self.authorize(request)
        q = request.query_params
        rows = await self.s.store.deliveries(await self._tenant(q.get("tenant")), q.get("video_id") or None)
        return _ok([{**row, "tenant": tenant_label(row["tenant"])} for row in rows])
