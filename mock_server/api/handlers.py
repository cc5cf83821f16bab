"""The six operations of `openapi.yaml`: each a coroutine `(services, call) -> data`.

A handler sees the services through `ApiServices`, the narrow interface below (not the app), and the
request through `OperationCall`: the caller (already authenticated when the operation needs it), the
values the spec validated, the `Prefer` fate and the base URL. It returns the envelope's `data`;
errors are raised as `ApiError` and rendered from the catalog by the error layer.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from a2v_spec import ErrorCode, Status
from mock_server.api.interfaces import CoreServices
from mock_server.errors import ApiError
from mock_server.logs import task_event
from mock_server.scenario_values import Outcome, Plan, TaskFate, Timings
from mock_server.store import Task, new_video_id

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from mock_server.api.scenario import Scenario, ScenarioControl
    from mock_server.api.validation import Validated
    from mock_server.auth import Principal
    from mock_server.files import Signer
    from mock_server.tasks.characters import Characters
    from mock_server.tasks.protocols import TaskRunning
    from mock_server.tasks.replay import Replay
    from mock_server.tasks.video_objects import VideoViews

__all__ = ["HANDLERS", "Answer", "ApiServices", "OperationCall"]

#: Codes that can end a task (`TaskErrorCode` in the spec).
_TASK_CODES_POINTER = "/components/schemas/TaskErrorCode"


class ApiServices(CoreServices, Protocol):
    """What the operations use of the server, beyond the core."""

    signer: Signer
    characters: Characters
    scenario: Scenario
    control: ScenarioControl
    runner: TaskRunning
    views: VideoViews
    cache: dict[str, Any]
    replay: Replay | None


@dataclass(frozen=True)
class OperationCall:
    """One API call as a handler sees it."""

    principal: Principal | None
    values: Validated
    fate: TaskFate
    base_url: str

    @property
    def caller(self) -> Principal:
        assert self.principal is not None  # the operation needs auth: the pipeline required it
        return self.principal


@dataclass(frozen=True)
class Answer:
    """A handler's `data` with headers of its own operation (`video.list`'s `X-Total-Count`), for the
    few answers that carry more than the headers every answer gets from the request path."""

    data: Any
    headers: dict[str, str]


async def ping(s: ApiServices, call: OperationCall) -> Any:
    return {"pong": True, "time": int(time.time())}


async def login(s: ApiServices, call: OperationCall) -> Any:
    return await s.auth.login(call.values.body["username"], call.values.body["password"])


async def list_characters(s: ApiServices, call: OperationCall) -> Any:
    now = int(time.time())
    key = (call.base_url, now)  # the same list for every caller within a second: URLs are signed per second
    cached = s.cache.get("characters")
    if cached is not None and cached[0] == key:
        return cached[1]
    data = [
        {
            "model_id": c.model_id,
            "name": c.name,
            "display_name": c.display_name,
            "gender": c.gender,
            "preview_url": s.signer.url(call.base_url, f"/files/previews/{c.model_id}.png", now)[0],
        }
        for c in s.characters.all()
    ]
    s.cache["characters"] = (key, data)
    return data


async def _plan(s: ApiServices, call: OperationCall, tenant: str, now: float) -> Plan:
    """The task's fate: the `Prefer` header's, else the scenario's next queued fate, else a real render."""
    fate = call.fate
    cap = s.settings.max_prefer_duration_seconds
    if fate.duration is not None and fate.duration > cap:
        raise ApiError(
            ErrorCode.INVALID_PARAMETER,
            f"invalid parameter 'Prefer': duration={fate.duration:g} is over the limit of {cap:g} s",
        )
    queued = await s.control.take_next_task(tenant) if fate.outcome is None else None
    if queued is not None:
        duration = fate.duration if fate.duration is not None else queued.duration
        fate = TaskFate(queued.outcome, fate.error_code or queued.error_code, duration)
    outcome = Outcome.ERROR if fate.error_code is not None else (fate.outcome or Outcome.FINISH)
    code = fate.error_code or ErrorCode.INTERNAL_ERROR
    if s.spec.schemas.errors(_TASK_CODES_POINTER, int(code)):
        message = f"invalid parameter 'Prefer': error_code {int(code)} cannot end a task"
        raise ApiError(ErrorCode.INVALID_PARAMETER, message)
    timings = s.scenario.timings if fate.duration is None else Timings.spread(fate.duration)
    return Plan(outcome, code, timings, accepted_at=now, base_url=call.base_url)


async def _check_queue(s: ApiServices, tenant: str) -> None:
    """1010 when the queue is full, or when this tenant already holds its share of it: one tenant's
    flood fills its own share and leaves the rest to the others."""
    retry = s.settings.queue_retry_after
    share = s.settings.tenant_share
    mine = await s.store.count_unfinished(tenant)
    if mine >= share:
        raise ApiError(
            ErrorCode.QUEUE_FULL,
            f"this tenant has {mine} unfinished tasks, its share of the queue ({share}); retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )
    waiting = await s.store.count_unfinished()
    if waiting >= s.settings.queue_capacity:
        raise ApiError(
            ErrorCode.QUEUE_FULL,
            f"task queue is full ({waiting} tasks waiting); retry in {retry} s",
            headers={"Retry-After": str(retry)},
        )


async def _replayed(
    s: ApiServices, tenant: str, key: str | None, body_hash: str, held: tuple[str, str]
) -> dict[str, str]:
    """The answer for an Idempotency-Key already used: its task with its status now, or 1008 when the
    body differs."""
    if held[0] != body_hash:
        raise ApiError(
            ErrorCode.IDEMPOTENCY_CONFLICT, f"Idempotency-Key {key!r} was used with a different request body"
        )
    task = await s.store.get_task(held[1], tenant)
    return {"video_id": held[1]} if task is None else {"video_id": held[1], "status": str(task.status)}


async def generate(s: ApiServices, call: OperationCall) -> Any:
    who, body = call.caller, call.values.body
    model_id = body["model_id"]
    if model_id not in s.characters:
        raise ApiError(ErrorCode.MODEL_NOT_FOUND, f"unknown model_id {model_id!r}; see character.list")
    key = call.values.headers.get("Idempotency-Key")
    body_hash = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    if key is not None:
        seen = await s.store.idempotent(who.tenant, key, s.limits.idempotency_ttl_seconds)
        if seen is not None:
            return await _replayed(s, who.tenant, key, body_hash, seen)
    await _check_queue(s, who.tenant)
    now = time.time()
    task = Task(
        video_id=new_video_id(),
        tenant=who.tenant,
        token=who.token,
        model_id=model_id,
        audio_url=body["audio_url"],
        callback_url=body.get("callback_url"),
        status=Status.PENDING,
        progress=0,
        error_code=None,
        error_message=None,
        duration=None,
        created_at=int(now),
        updated_at=int(now),
        plan=(s.replay.plan_for(body, now, call.base_url) if s.replay is not None else None)
        or await _plan(s, call, who.tenant, now),
    )
    held = await s.store.create_task(task, key, body_hash, s.limits.idempotency_ttl_seconds)
    if held is not None:  # another request with this key won the race (another replica, say)
        return await _replayed(s, who.tenant, key, body_hash, held)
    task_event("created", task.video_id, task.tenant, model_id=task.model_id)
    s.runner.start(task.video_id)
    return {"video_id": task.video_id, "status": str(Status.PENDING)}


async def get_video(s: ApiServices, call: OperationCall) -> Any:
    video_id = call.values.query["video_id"]
    task = await s.store.get_task(video_id, call.caller.tenant)
    if task is None:
        raise ApiError(ErrorCode.VIDEO_NOT_FOUND, f"unknown video_id {video_id!r}")
    return s.views.video(task, call.base_url)


async def list_videos(s: ApiServices, call: OperationCall) -> Any:
    """The documented plain array of videos; the page is chosen by the query, the total is a header."""
    query = call.values.query
    page, size = int(query.get("page", 1)), int(query.get("page_size", 20))
    status = None if query.get("status") is None else Status(query["status"])
    tasks, total = await s.store.list_tasks(call.caller.tenant, status, limit=size, offset=(page - 1) * size)
    return Answer([s.views.video(t, call.base_url) for t in tasks], {"X-Total-Count": str(total)})


#: operationId -> handler; every operation of the spec has one (checked when the app is built).
HANDLERS: dict[str, Callable[[ApiServices, OperationCall], Awaitable[Any]]] = {
    "ping": ping,
    "login": login,
    "listCharacters": list_characters,
    "generateVideo": generate,
    "getVideo": get_video,
    "listVideos": list_videos,
}
