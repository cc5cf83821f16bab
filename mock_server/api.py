"""The six operations of `openapi.yaml`, behind one dispatcher that follows the spec.

    route (spec.find) -> 404 1007 / 405 1006 -> auth (if the operation needs it) -> Prefer forcing
    -> request validation (pipeline.Validator) -> handler -> envelope

Handlers return the envelope's `data`; errors are raised as ApiError and rendered from the catalog.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mock_server.control import Plan, parse_prefer
from mock_server.errors import ApiError, envelope_bytes
from mock_server.store import Task, new_video_id

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from a2v_spec import Operation
    from mock_server.app import Mock
    from mock_server.auth import Principal
    from mock_server.pipeline import Validated

__all__ = ["dispatch", "handle_api", "video_view"]

log = logging.getLogger("mock_server")

#: Codes that can end a task (`TaskErrorCode` in the spec).
_TASK_CODES_POINTER = "/components/schemas/TaskErrorCode"


def video_view(mock: Mock, task: Task, base_url: str) -> dict[str, Any]:
    """The `Video` object for `task`, with freshly signed URLs when it is finished."""
    view: dict[str, Any] = {
        "video_id": task.video_id,
        "model_id": task.model_id,
        "audio_url": task.audio_url,
        "status": task.status,
        "progress": task.progress,
        "created_at": task.created_at,
        "updated_at": task.updated_at,
    }
    if task.callback_url:
        view["callback_url"] = task.callback_url
    if task.status == "pending":
        view["progress"] = 0
    elif task.status == "in_progressing":
        view["progress"] = min(99, max(1, task.progress))
    elif task.status == "finished":
        now = time.time()
        view["progress"] = 100
        view["video_url"], expires = mock.signer.url(base_url, f"/files/videos/{task.video_id}.mp4", now)
        view["mask_video_url"], _ = mock.signer.url(base_url, f"/files/videos/{task.video_id}.mask.mp4", now)
        view["url_expires_at"] = expires
        view["duration"] = task.duration if task.duration is not None else 0.0
    else:
        view["error"] = {
            "code": task.error_code or 1500,
            "message": task.error_message or mock.errors.message(task.error_code or 1500),
        }
    return view


def _base_url(request: Request) -> str:
    """`scheme://host[:port][root_path]` as the client addressed us (cheaper than `request.base_url`)."""
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


# --- handlers -------------------------------------------------------------------------------------


async def ping(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    return {"pong": True, "time": int(time.time())}


async def login(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    return mock.auth.login(v.body["username"], v.body["password"])


async def list_characters(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    base = _base_url(request)
    now = int(time.time())
    key = (base, now)  # the same list for every caller within a second: URLs are signed per second
    cached = mock.cache.get("characters")
    if cached is not None and cached[0] == key:
        return cached[1]
    data = [
        {
            "model_id": c.model_id,
            "name": c.name,
            "display_name": c.display_name,
            "gender": c.gender,
            "preview_url": mock.signer.url(base, f"/files/previews/{c.model_id}.png", now)[0],
        }
        for c in mock.characters.values()
    ]
    mock.cache["characters"] = (key, data)
    return data


def _plan(mock: Mock, request: Request, tenant: str) -> dict[str, Any]:
    prefer = request.scope.get("a2v.prefer")
    queued = mock.scenario.take_next_task(tenant) if prefer is None or prefer.outcome is None else None
    plan = Plan()
    duration: float | None = None
    if prefer is not None and prefer.outcome is not None:
        plan.outcome = prefer.outcome
        plan.error_code = prefer.error_code or 1500
        duration = prefer.duration
    elif queued is not None:
        plan.outcome = "error" if queued.get("outcome", "error") == "error" else "finish"
        plan.error_code = int(queued.get("error_code", 1500))
        duration = queued.get("duration")
    if prefer is not None and prefer.duration is not None:
        duration = prefer.duration
    if prefer is not None and prefer.error_code is not None:
        plan.error_code, plan.outcome = prefer.error_code, "error"
    if mock.spec.schemas.errors(_TASK_CODES_POINTER, plan.error_code):
        raise ApiError(1003, f"invalid parameter 'Prefer': error_code {plan.error_code} cannot end a task")
    data = plan.to_dict()
    if duration is not None:
        data["pending_seconds"], data["in_progress_seconds"] = 0.3 * float(duration), 0.7 * float(duration)
    else:
        data["pending_seconds"] = mock.scenario.timings["pending_seconds"]
        data["in_progress_seconds"] = mock.scenario.timings["in_progress_seconds"]
    return data


async def generate(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    assert who is not None  # the operation needs auth
    body = v.body
    model_id = body["model_id"]
    if model_id not in mock.characters:
        raise ApiError(20001, f"unknown model_id {model_id!r}; see character.list")
    key = v.headers.get("Idempotency-Key")
    body_hash = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    if key is not None:
        seen = mock.store.idempotent(who.tenant, key, mock.limits.idempotency_ttl_seconds)
        if seen is not None:
            if seen[0] != body_hash:
                raise ApiError(1008, f"Idempotency-Key {key!r} was used with a different request body")
            return {"video_id": seen[1]}
    waiting = mock.store.count_unfinished()
    if waiting >= mock.settings.queue_capacity:
        retry = mock.settings.queue_retry_after
        raise ApiError(
            1010,
            f"task queue is full ({waiting} tasks waiting); retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
    replayed = mock.replay.plan_for(body) if mock.replay is not None else None
    plan = replayed if replayed is not None else _plan(mock, request, who.tenant)
    now = time.time()
    plan["accepted_at"] = now
    plan["base_url"] = _base_url(request)
    task = Task(
        video_id=new_video_id(),
        tenant=who.tenant,
        token=who.token,
        model_id=model_id,
        audio_url=body["audio_url"],
        callback_url=body.get("callback_url"),
        status="pending",
        progress=0,
        error_code=None,
        error_message=None,
        duration=None,
        created_at=int(now),
        updated_at=int(now),
        plan=plan,
    )
    mock.store.insert_task(task)
    if key is not None:
        mock.store.remember_key(who.tenant, key, body_hash, task.video_id)
    mock.runner.start(task.video_id)
    return {"video_id": task.video_id}


async def get_video(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    assert who is not None
    task = mock.store.get_task(v.query["video_id"], who.tenant)
    if task is None:
        raise ApiError(20002, f"unknown video_id {v.query['video_id']!r}")
    return video_view(mock, task, _base_url(request))


async def list_videos(mock: Mock, request: Request, who: Principal | None, v: Validated) -> Any:
    assert who is not None
    page, size = int(v.query.get("page", 1)), int(v.query.get("page_size", 20))
    tasks, total = mock.store.list_tasks(
        who.tenant, v.query.get("status"), limit=size, offset=(page - 1) * size
    )
    base = _base_url(request)
    return {
        "items": [video_view(mock, t, base) for t in tasks],
        "page": page,
        "page_size": size,
        "total": total,
    }


HANDLERS = {
    "ping": ping,
    "login": login,
    "listCharacters": list_characters,
    "generateVideo": generate,
    "getVideo": get_video,
    "listVideos": list_videos,
}


# --- dispatch -------------------------------------------------------------------------------------


def _forced(mock: Mock, status: int | None, code: int | None) -> ApiError:
    if code is None:
        code = next((c for c, e in mock.errors.catalog.items() if e.http_status == status), 1500)
    if code not in mock.errors.catalog:
        raise ApiError(1003, f"invalid parameter 'Prefer': code={code} is not in the error catalog")
    if status is not None and not 400 <= status <= 599:
        raise ApiError(1003, f"invalid parameter 'Prefer': status={status} must be an error status (400-599)")
    final = status or mock.errors.status(code)
    headers = {"Retry-After": "1"} if final in (429, 503) else {}
    return ApiError(
        code, f"{mock.errors.message(code)} (forced by the Prefer header)", status=final, headers=headers
    )


async def dispatch(request: Request) -> Response:
    mock: Mock = request.app.state.mock
    path, method = request.url.path, request.method
    op: Operation | None = mock.routes.get((method, path))
    if op is None:
        allowed = sorted(o.method.upper() for o in mock.spec.operations.values() if o.path == path)
        if allowed:
            raise ApiError(
                1006,
                f"method {method} is not allowed on {path}; use {', '.join(allowed)}",
                headers={"Allow": ", ".join(allowed)},
            )
        raise ApiError(1007, f"no operation at {path}; see /openapi.yaml")
    request.scope["a2v.operation"] = op
    who = mock.auth.authenticate(request.headers.get("authorization")) if op.needs_auth else None
    try:
        prefer = parse_prefer(request.headers.get("prefer"))
    except ApiError:
        request.scope["a2v.forced"] = True  # test control, not the API: exempt from response checks
        raise
    if prefer.forces_answer:
        request.scope["a2v.forced"] = True
        raise _forced(mock, prefer.status, prefer.code)
    request.scope["a2v.prefer"] = prefer
    validated = await mock.validator.request(op, request)
    data = await HANDLERS[op.operation_id](mock, request, who, validated)
    return Response(envelope_bytes(0, "success", data), media_type="application/json")


async def handle_api(scope: Scope, receive: Receive, send: Send) -> None:
    """ASGI entry for `/v1/...`: dispatch, and render ApiError from the catalog."""
    request = Request(scope, receive)
    try:
        response = await dispatch(request)
    except ApiError as err:
        response = request.app.state.mock.errors.response(err)
    except Exception as err:  # answered here, inside the gateway, so it still gets its headers
        log.exception("internal error on %s %s", request.method, request.url.path)
        body = envelope_bytes(1500, f"internal error: {type(err).__name__}")
        response = Response(body, status_code=500, media_type="application/json")
    await response(scope, receive, send)
