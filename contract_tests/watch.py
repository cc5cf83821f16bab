"""What the kit notices on every exchange of its client, whatever check sends it: when each request
left, that each answer came back in time, that `video.get` answered the video asked for, and a timeout
turned into a finding of its own.

Every JSON answer of an operation is also validated against the schema the spec documents for its
status, whatever check asked, and a mismatch is reported under `A2V-FUZZ-RESPONSE-SCHEMA` naming the
field (`data.status: 'done' is not one of [...]`), the first time it is seen: a status outside the
enum is a schema violation at first sight, not a lifecycle puzzle after the timeout.

`Watch.hooks` are httpx event hooks for the kit's clients (`fixtures.py`). What the watch finds wrong is
handed to `on_finding` (the report) at once and does not interrupt the check that sent the request:
the check goes on judging its own requirement. A request that gets no answer within the request timeout
is not a server error: it is reported under `A2V-ANSWER-IN-TIME` with the time the kit waited
(`answer_in_time`), never under `A2V-FUZZ-NO-SERVER-ERROR`.

Every JSON answer, of any path, is also judged as an envelope (`A2V-ENVELOPE`): an integer `code`, a
string `message` and a `data` member, a finding naming the field otherwise (`field code: '0' is a
string, not an integer`). And every answer is timed and every task read recorded (`evidence.py`), for
the report's latency histograms and lifecycle timelines.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from contract_tests.evidence import observe, observe_request, observe_task
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation, Violation, curl, describe_response

if TYPE_CHECKING:
    from collections.abc import Callable

    from a2v_spec import Operation, Spec
    from contract_tests.coverage import Coverage

__all__ = ["ANSWER_IN_TIME", "ENVELOPE", "Watch", "answer_in_time", "envelope_problems", "timeout_in"]

ANSWER_IN_TIME = Req.ANSWER_IN_TIME
ENVELOPE = Req.ENVELOPE
SAME_VIDEO = Req.GET_SAME_VIDEO
RESPONSE_SCHEMA = Req.FUZZ_RESPONSE_SCHEMA
_SENT = "a2v_sent_at"


class Watch:
    """Event hooks stamping each request, counting each answer as one in time, judging every
    `video.get` answer against the id it was asked for (A2V-GET-SAME-VIDEO) and every JSON answer
    against its documented schema (A2V-FUZZ-RESPONSE-SCHEMA)."""

    def __init__(
        self,
        spec: Spec | None = None,
        on_finding: Callable[[Violation], None] | None = None,
        coverage: Coverage | None = None,
    ) -> None:
        self.spec = spec
        self.coverage = coverage
        self.get_path = spec.operation("getVideo").path if spec is not None else None
        self.on_finding = on_finding
        ops = spec.operations.values() if spec is not None else ()
        self._operations = {(op.method.upper(), op.path): op for op in ops}
        self._reported: set[tuple[str, int, str]] = set()
        self._seen_ids: set[tuple[str, str, object]] = set()

    @property
    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        return {"request": [self.on_request], "response": [self.on_response]}

    def on_request(self, request: httpx.Request) -> None:
        request.extensions[_SENT] = time.monotonic()

    def on_response(self, response: httpx.Response) -> None:
        observe(ANSWER_IN_TIME)
        request = response.request
        operation = self._operation(request)
        seconds = waited(request)
        if seconds is not None:
            label = operation.operation_id if operation is not None else _other(request, self.spec)
            observe_request(label, request.method, response.status_code, seconds)
        if request.url.path.endswith(self.get_path or "\0") and response.status_code == 200:
            self._same_video(response)
        self._schema(response, operation)

    def _operation(self, request: httpx.Request) -> Operation | None:
        return next(
            (op for (method, path), op in self._operations.items()
             if method == request.method and request.url.path.endswith(path)),
            None,
        )  # fmt: skip

    def _schema(self, response: httpx.Response, operation: Operation | None) -> None:
        """The answer of any operation matches the schema documented for its status."""
        if self.spec is None or not response.headers.get("content-type", "").startswith("application/json"):
            return
        request = response.request
        response.read()
        try:
            body = response.json()
        except ValueError:
            return  # not JSON despite its type: A2V-FUZZ-CONTENT-TYPE and the envelope checks say so
        if self.coverage is not None:
            self.coverage.saw(operation, response.status_code, response.headers, body)
        self._envelope(response, operation, body)
        if operation is None:
            return
        self._task(operation, response.status_code, body)
        pointer = self.spec.response_pointer(operation, response.status_code)
        if pointer is None:
            return  # an undocumented status is A2V-FUZZ-STATUS-CODE's to judge
        where = _deepest(list(self.spec.schemas.validator(pointer).iter_errors(body)))
        if where is None:
            observe(RESPONSE_SCHEMA)
            return
        field_path, reason = where
        key = (operation.operation_id, response.status_code, field_path)
        if key in self._reported or self.on_finding is None:
            return
        self._reported.add(key)
        self.on_finding(
            Violation(
                RESPONSE_SCHEMA,
                f"{operation.operation_id} HTTP {response.status_code}: field {field_path or '(body)'}: "
                f"{reason}",
                expected=f"a body matching {pointer}",
                got=describe_response(response),
                curl=curl(request),
            )
        )

    def _envelope(self, response: httpx.Response, operation: Operation | None, body: Any) -> None:
        """A2V-ENVELOPE: every JSON answer is `{"code": int, "message": str, "data": ...}`."""
        problems = envelope_problems(body)
        if not problems:
            observe(ENVELOPE)
            return
        label = operation.operation_id if operation is not None else response.request.url.path
        for field_name, reason in problems:
            key = (f"{ENVELOPE} {label}", response.status_code, field_name)
            if key in self._reported or self.on_finding is None:
                continue
            self._reported.add(key)
            self.on_finding(
                Violation(
                    ENVELOPE,
                    f"{label} HTTP {response.status_code}: envelope field {field_name}: {reason}",
                    expected='the envelope {"code": int, "message": str, "data": ...}',
                    got=describe_response(response),
                    curl=curl(response.request),
                )
            )

    def _task(self, operation: Operation, status: int, body: Any) -> None:
        """Record a task's creation (`video.generate`) and each status read of it (`video.get`)."""
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return
        data = body["data"]
        video_id = data.get("video_id")
        if not isinstance(video_id, str):
            return
        if operation.operation_id == "generateVideo":
            observe_task(video_id, None)
        elif operation.operation_id == "getVideo" and isinstance(data.get("status"), str):
            progress = data.get("progress")
            observe_task(video_id, data["status"], progress if type(progress) is int else None)

    def _same_video(self, response: httpx.Response) -> None:
        asked = response.request.url.params.get("video_id")
        response.read()
        try:
            data = response.json().get("data")
        except (ValueError, AttributeError):
            return  # not an envelope: the schema checks report it
        answered = data.get("video_id") if isinstance(data, dict) else None
        if asked is None or answered is None:
            return
        if answered == asked:
            observe(SAME_VIDEO)
        elif self.on_finding is not None and (SAME_VIDEO, asked, answered) not in self._seen_ids:
            self._seen_ids.add((SAME_VIDEO, asked, answered))
            self.on_finding(
                Violation(
                    SAME_VIDEO,
                    f"video.get?video_id={asked} answered video {answered!r}",
                    expected=f"video_id {asked} (or 20002 when the token has no such video)",
                    got=describe_response(response),
                    curl=curl(response.request),
                )
            )


def _other(request: httpx.Request, spec: Spec | None) -> str:
    """The latency group of a request that is no operation: a path under the API's prefix (a routing
    check, a fuzzed method) or a file download."""
    prefix = "/" + spec.operation("ping").path.strip("/").split("/")[0] + "/" if spec is not None else "/v1/"
    return "other API path" if prefix in request.url.path else "file download"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def envelope_problems(body: Any) -> list[tuple[str, str]]:
    """(field, what is wrong) for each way `body` is not the API's envelope; empty when it is one."""
    if not isinstance(body, dict):
        return [("(body)", f"is {_json_type(body)}, not an object")]
    problems = []
    code = body.get("code")
    if "code" not in body:
        problems.append(("code", "is missing"))
    elif type(code) is not int:
        problems.append(("code", f"{code!r} is {_json_type(code)}, not an integer"))
    if "message" not in body:
        problems.append(("message", "is missing"))
    elif not isinstance(body["message"], str):
        problems.append(("message", f"{body['message']!r} is {_json_type(body['message'])}, not a string"))
    if "data" not in body:
        problems.append(("data", "is missing (null when there is none)"))
    return problems


def _deepest(errors: list[Any]) -> tuple[str, str] | None:
    """(field path, reason) of the most telling mismatch. Inside `oneOf`/`anyOf` (a Video is one
    schema per status) it follows the branch with the fewest errors, the one the value was meant to
    match, so the report names the field that is wrong, not "valid under none of the schemas"."""
    leaves: list[Any] = []
    stack = list(errors)
    while stack:
        err = stack.pop()
        if not err.context:
            leaves.append(err)
            continue
        branches: dict[Any, list[Any]] = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(
                sub
            )
        fewest = min(branches, key=lambda branch: len(branches[branch]))
        stack.extend(branches[fewest])
    if not leaves:
        return None
    best = max(leaves, key=lambda e: len(e.absolute_path))
    text = ""
    for part in best.absolute_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text, best.message


def waited(request: httpx.Request | None) -> float | None:
    """Seconds since `request` left (stamped by `Watch`), or None when it was not stamped."""
    if request is None:
        return None
    sent = request.extensions.get(_SENT)
    return time.monotonic() - sent if isinstance(sent, float) else None


def timeout_in(exc: BaseException | None) -> httpx.TimeoutException | None:
    """The httpx timeout inside `exc` (looking through causes, contexts and groups), if any."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        err = stack.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, httpx.TimeoutException):
            return err
        if isinstance(err, BaseExceptionGroup):
            stack.extend(err.exceptions)
        stack += [err.__cause__, err.__context__]
    return None


def answer_in_time(err: httpx.TimeoutException) -> ContractViolation:
    """The finding for a request that got no answer in time, with what was sent and how long the kit
    waited."""
    try:
        request: httpx.Request | None = err.request
    except RuntimeError:  # an exception raised without its request
        request = None
    seconds = waited(request)
    what = f"{request.method} {request.url.path}" if request is not None else "a request"
    how_long = f"{seconds:.1f} s" if seconds is not None else "the request timeout"
    return ContractViolation(
        ANSWER_IN_TIME,
        f"{what}: no answer after {how_long} ({type(err).__name__})",
        expected="an HTTP answer within the kit's request timeout (--request-timeout)",
        curl_command=curl(request),
    )
