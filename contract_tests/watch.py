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
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx

from contract_tests.evidence import observe
from contract_tests.violations import ContractViolation, Violation, curl, describe_response

if TYPE_CHECKING:
    from collections.abc import Callable

    from a2v_spec import Spec
    from contract_tests.coverage import Coverage

__all__ = ["ANSWER_IN_TIME", "Watch", "answer_in_time", "timeout_in"]

ANSWER_IN_TIME = "A2V-ANSWER-IN-TIME"
SAME_VIDEO = "A2V-GET-SAME-VIDEO"
RESPONSE_SCHEMA = "A2V-FUZZ-RESPONSE-SCHEMA"
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
        if request.url.path.endswith(self.get_path or "\0") and response.status_code == 200:
            self._same_video(response)
        self._schema(response)

    def _schema(self, response: httpx.Response) -> None:
        """The answer of any operation matches the schema documented for its status."""
        if self.spec is None or not response.headers.get("content-type", "").startswith("application/json"):
            return
        request = response.request
        operation = next(
            (op for (method, path), op in self._operations.items()
             if method == request.method and request.url.path.endswith(path)),
            None,
        )  # fmt: skip
        response.read()
        try:
            body = response.json()
        except ValueError:
            return  # not JSON despite its type: A2V-FUZZ-CONTENT-TYPE and the envelope checks say so
        if self.coverage is not None:
            self.coverage.saw(operation, response.status_code, response.headers, body)
        if operation is None:
            return
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
