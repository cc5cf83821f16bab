"""What the kit notices on every exchange of its client, whatever check sends it: when each request
left, that each answer came back in time, that `video.get` answered the video asked for, and a timeout
turned into a finding of its own.

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

__all__ = ["ANSWER_IN_TIME", "Watch", "answer_in_time", "timeout_in"]

ANSWER_IN_TIME = "A2V-ANSWER-IN-TIME"
SAME_VIDEO = "A2V-GET-SAME-VIDEO"
_SENT = "a2v_sent_at"


class Watch:
    """Event hooks stamping each request, counting each answer as one in time, and judging every
    `video.get` answer against the id it was asked for (A2V-GET-SAME-VIDEO)."""

    def __init__(
        self, spec: Spec | None = None, on_finding: Callable[[Violation], None] | None = None
    ) -> None:
        self.get_path = spec.operation("getVideo").path if spec is not None else None
        self.on_finding = on_finding

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
        elif self.on_finding is not None:
            self.on_finding(
                Violation(
                    SAME_VIDEO,
                    f"video.get?video_id={asked} answered video {answered!r}",
                    expected=f"video_id {asked} (or 20002 when the token has no such video)",
                    got=describe_response(response),
                    curl=curl(response.request),
                )
            )


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
