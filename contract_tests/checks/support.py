"""What the check modules share: judging one answer against the spec, and sending schemathesis cases.

Check modules import from here and never from each other, so each `check_*.py` is one layer of the kit
and this is the vocabulary they are written in:

    envelope / envelope_code      the answer's envelope (or a violation), its `code`
    succeeded                     HTTP 200 with code 0 (a control before a refusal means anything)
    expect_error                  HTTP status + catalog code + `data: null` + a message
    conforms                      the body matches the schema documented for its status
    check_shape / check_duration  a Video object for its status; a duration within one frame
    send_case / validate / tame   a schemathesis case sent with the kit's client, judged per requirement
    kit_settings / seeded         hypothesis settings every generating check runs with
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, reject, seed, settings

from contract_tests.evidence import current, observe
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation, check, curl
from contract_tests.watch import answer_in_time

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from a2v_spec import ErrorCode, Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.config import KitOptions
    from contract_tests.media import MediaInfo
    from contract_tests.models import Video

F = TypeVar("F", bound="Callable[..., Any]")

__all__ = [
    "FUZZ_REQUIREMENTS",
    "PAGE_RULE",
    "VIDEO_SCHEMA",
    "check_audio_stream",
    "check_duration",
    "check_mask",
    "check_mp4",
    "check_shape",
    "conforms",
    "envelope",
    "envelope_code",
    "envelope_code_matches",
    "expect_error",
    "kit_settings",
    "optional_absent",
    "page_problem",
    "seeded",
    "send_case",
    "succeeded",
    "tame",
    "validate",
]

VIDEO_SCHEMA = "/components/schemas/Video"
#: The ids every fuzzed answer is judged on (negative cases add A2V-FUZZ-NEGATIVE-REJECTED).
FUZZ_REQUIREMENTS = (
    Req.FUZZ_NO_SERVER_ERROR,
    Req.FUZZ_STATUS_CODE,
    Req.FUZZ_CONTENT_TYPE,
    Req.FUZZ_RESPONSE_SCHEMA,
    Req.RATELIMIT_HEADERS,
    Req.ENVELOPE_ERROR_CODE,
)


# -- one answer ---------------------------------------------------------------------------------------


def envelope(response: httpx.Response, requirement_id: str = Req.FUZZ_RESPONSE_SCHEMA) -> dict[str, Any]:
    """The answer's JSON envelope; a violation of `requirement_id` when it is not a JSON object."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ContractViolation(
            requirement_id,
            "the answer is not a JSON envelope",
            expected='{"code": int, "message": str, "data": ...}',
            response=response,
        )
    return body


def envelope_code(response: httpx.Response) -> object:
    """The envelope's `code`, or None when the body is not the API's JSON envelope (never raises)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def succeeded(response: httpx.Response) -> bool:
    """The answer is HTTP 200 with envelope code 0: what a check's control needs before a refusal
    elsewhere can mean anything."""
    return response.status_code == 200 and envelope_code(response) == 0


def expect_error(response: httpx.Response, requirement_id: str, code: ErrorCode, spec: Spec) -> None:
    """The answer is the catalog's HTTP status for `code`, with envelope `code`, `data: null` and a
    message."""
    status = spec.errors[code].http_status
    body = envelope(response, requirement_id)
    expected = f"HTTP {status}, code {int(code)} ({spec.errors[code].message}), data null"
    check(
        response.status_code == status and body.get("code") == code,
        requirement_id,
        f"expected HTTP {status} / {int(code)}, got HTTP {response.status_code} / {body.get('code')!r}",
        expected=expected,
        response=response,
    )
    check(
        body.get("data") is None,
        requirement_id,
        "an error's data must be null",
        expected=expected,
        response=response,
    )
    check(
        isinstance(body.get("message"), str) and body["message"],
        requirement_id,
        "an error needs a non-empty message",
        expected=expected,
        response=response,
    )


def conforms(response: httpx.Response, spec: Spec, operation_id: str, requirement_id: str) -> dict[str, Any]:
    """The body matches the schema documented for its status."""
    body = envelope(response, requirement_id)
    pointer = spec.response_pointer(spec.operation(operation_id), response.status_code)
    if pointer is None:
        raise ContractViolation(
            requirement_id,
            f"{operation_id} documents no HTTP {response.status_code}",
            response=response,
        )
    errors = spec.schemas.errors(pointer, body)
    check(
        not errors,
        requirement_id,
        f"{operation_id} answer does not match {pointer}: {errors[0] if errors else ''}",
        expected="a body matching the spec's schema",
        response=response,
    )
    return body


def check_shape(video: Video, spec: Spec, client: A2VClient, response: httpx.Response | None = None) -> None:
    """A2V-LIFECYCLE-SHAPE: the object matches the Video schema for its status (`response`: the
    answer to show; default the client's last)."""
    errors = spec.schemas.errors(VIDEO_SCHEMA, video.raw)
    check(
        not errors,
        Req.LIFECYCLE_SHAPE,
        f"video {video.video_id} ({video.status}) does not match the schema: {errors[0] if errors else ''}",
        expected=f"{VIDEO_SCHEMA} for status {video.status!r}",
        response=response or client.last_response,
    )
    observe(Req.LIFECYCLE_SHAPE, f"status:{video.status}")


#: What `page_problem` holds a `video.list` page to, as a violation's `expected`.
PAGE_RULE = "at most page_size videos; with X-Total-Count, as many as it leaves for the page"


def page_problem(spec: Spec, count: int, query: Mapping[str, str], total: str | None) -> str | None:
    """What is wrong with a `video.list` page of `count` videos asked for with `query`, or None.

    A page holds at most `page_size` videos; when the service sends `X-Total-Count` (optional), it is a
    non-negative integer and page `page` holds exactly the videos that total leaves for it."""
    defaults = {
        p.name: spec.resolve(spec.at(p.schema_pointer)).get("default")
        for p in spec.operation("listVideos").parameters
    }
    try:
        page = int(query.get("page", str(defaults["page"])))
        size = int(query.get("page_size", str(defaults["page_size"])))
    except (TypeError, ValueError):
        return None  # a request the service must refuse: not a page
    if count > size:
        return f"a page of page_size {size} holds {count} videos"
    if total is None:
        return None
    if not total.strip().isdigit():
        return f"X-Total-Count is {total!r}, not a non-negative integer"
    expected = max(0, min(size, int(total) - (page - 1) * size))
    if count != expected:
        return f"page {page} (page_size {size}) holds {count} videos; X-Total-Count {total} leaves {expected}"
    return None


def optional_absent(requirement_id: str, sentence: str) -> None:
    """The service left out an optional field that `requirement_id`'s rule is about: the requirement
    is not judged on it (inconclusive, with `sentence`), and the test goes on with its other ids.

    An absent optional field is no violation (the upstream leaves most of them out), and no pass."""
    evidence = current()
    if evidence is not None:
        evidence.could_not_judge(requirement_id, sentence)


def check_duration(
    info_seconds: float, audio_seconds: float, fps: float, what: str, response: httpx.Response | None = None
) -> None:
    """A2V-FILE-DURATION: `what` lasts as long as the submitted audio, within one video frame."""
    frame = 1.0 / (fps or 25)
    check(
        abs(info_seconds - audio_seconds) <= frame + 1e-6,
        Req.FILE_DURATION,
        f"{what} lasts {info_seconds:.3f} s, the submitted audio {audio_seconds:.3f} s",
        expected=f"{audio_seconds:.3f} s within one frame ({frame:.3f} s)",
        response=response,
    )


def check_audio_stream(info: MediaInfo, audio_seconds: float, response: httpx.Response | None = None) -> None:
    """A2V-FILE-DURATION: the MP4's audio stream lasts as long as the submitted audio.

    AAC is coded in 1024-sample frames: one of them is allowed beyond the video frame."""
    check(
        abs(info.audio_seconds - audio_seconds) <= 1.0 / (info.fps or 25) + 1024 / 8000,
        Req.FILE_DURATION,
        f"the audio stream lasts {info.audio_seconds:.3f} s, the submitted audio {audio_seconds:.3f} s",
        expected=f"{audio_seconds:.3f} s",
        response=response,
    )


def check_mp4(info: MediaInfo, response: httpx.Response) -> None:
    """A2V-FILE-VIDEO-MP4: H.264 `yuv420p` video and AAC audio in an MP4 of even size with `faststart`,
    served as `video/mp4`."""
    rid = Req.FILE_VIDEO_MP4
    check("mp4" in info.container, rid, f"container is {info.container!r}", expected="MP4", response=response)
    check(
        info.video_codec == "h264",
        rid,
        f"video codec is {info.video_codec!r}",
        expected="h264",
        response=response,
    )
    check(
        info.pix_fmt == "yuv420p",
        rid,
        f"pixel format is {info.pix_fmt!r}",
        expected="yuv420p",
        response=response,
    )
    check(
        info.audio_codec == "aac",
        rid,
        f"audio is {info.audio_codec!r}",
        expected="an AAC stream",
        response=response,
    )
    check(
        info.width > 0 and info.width % 2 == 0 and info.height % 2 == 0,
        rid,
        f"size {info.width}x{info.height} is not even",
        expected="even width and height (yuv420p)",
        response=response,
    )
    check(info.faststart, rid, "the moov box comes after mdat (no faststart)", response=response)
    kind = response.headers.get("content-type", "")
    check(
        kind.startswith("video/mp4"),
        rid,
        f"Content-Type is {kind!r}",
        expected="video/mp4",
        response=response,
    )


def check_mask(video: MediaInfo, mask: MediaInfo, response: httpx.Response) -> None:
    """A2V-FILE-MASK: the mask is H.264 of the video's size and frame count."""
    check(mask.video_codec == "h264", Req.FILE_MASK, f"mask codec {mask.video_codec!r}", response=response)
    check(
        (mask.width, mask.height) == (video.width, video.height),
        Req.FILE_MASK,
        f"mask is {mask.width}x{mask.height}, video {video.width}x{video.height}",
        expected="the same size",
        response=response,
    )
    check(
        mask.frames == video.frames,
        Req.FILE_MASK,
        f"mask has {mask.frames} frames, video {video.frames}",
        expected="the same frame count",
        response=response,
    )


def envelope_code_matches(response: httpx.Response, spec: Spec) -> str | None:
    """None when an error answer's code is a catalog code whose HTTP status is the answer's."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None  # the schema checks report a non-JSON answer
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool) or code not in spec.errors:
        return f"error answer with code {code!r}, which is not in x-a2v-error-catalog"
    expected = spec.errors[code].http_status
    if expected is not None and expected != response.status_code:
        return f"code {code} must be answered with HTTP {expected}, got {response.status_code}"
    return None


def _is_catalog_code(response: httpx.Response, spec: Spec) -> bool:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return False
    return isinstance(code, int) and not isinstance(code, bool) and code in spec.errors


# -- schemathesis cases -------------------------------------------------------------------------------


def _schemathesis_checks() -> list[tuple[str, Any]]:
    """Each schemathesis response check, with the requirement id a failure of it breaks."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        negative_data_rejection,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        (Req.FUZZ_NO_SERVER_ERROR, not_a_server_error),
        (Req.FUZZ_STATUS_CODE, status_code_conformance),
        (Req.FUZZ_CONTENT_TYPE, content_type_conformance),
        (Req.RATELIMIT_HEADERS, response_headers_conformance),
        (Req.FUZZ_RESPONSE_SCHEMA, response_schema_conformance),
        (Req.FUZZ_NEGATIVE_REJECTED, negative_data_rejection),
    ]


def send_case(case: Any, client: A2VClient, base_url: str) -> httpx.Response:
    """Send a schemathesis case with the kit's client (so in-process runs work too)."""
    kwargs = case.as_transport_kwargs(base_url=base_url)
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "connection"}
    content = kwargs.get("data")
    if isinstance(content, str):
        content = content.encode()
    try:
        return client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params") or None,
            json_body=kwargs.get("json"),
            content=content,
            headers=headers,
            auth=False,
        )
    except (httpx.LocalProtocolError, UnicodeEncodeError, ValueError):
        # HTTP itself cannot carry this case (e.g. a header value with a newline): not the server's fault.
        reject()
    except httpx.TimeoutException as err:
        # No answer in time is not a server error: it has its own requirement, with the time waited.
        raise answer_in_time(err) from err
    except httpx.TransportError as err:
        raise ContractViolation(
            Req.FUZZ_NO_SERVER_ERROR,
            f"{case.operation.label}: no answer, the connection failed: {type(err).__name__}: {err}",
            expected="an HTTP answer (4xx for bad input)",
            curl_command=curl(err.request),
        ) from err


def validate(
    case: Any, response: httpx.Response, spec: Spec, only: set[str] | None = None, base_url: str | None = None
) -> None:
    """Run every mapped check; raise the first ContractViolation (each names its requirement).

    Every check judges the answer, even after one failed, so the requirements the answer satisfies
    count it as an observation (`contract_tests.evidence`) whatever broke first.
    """
    from schemathesis.core.failures import FailureGroup

    # The kit's own curl (token as $A2V_TOKEN), not schemathesis's ("authorization: [Filtered]").
    curl_command = curl(response.request)
    first: ContractViolation | None = None
    envelope: ContractViolation | None = None
    if only is None or Req.ENVELOPE_ERROR_CODE in only:
        problem = envelope_code_matches(response, spec)
        if problem:
            envelope = ContractViolation(
                Req.ENVELOPE_ERROR_CODE,
                f"{case.operation.label}: {problem}",
                expected="a catalog code answered with its catalog HTTP status",
                response=response,
                curl_command=curl_command,
            )
            # A catalog code under the wrong HTTP status also breaks that status's `code` enum in the
            # schema; the pairing is the more specific diagnosis, so it is the one reported. A code that
            # is no catalog code at all (a string, say) is left to the schema check, which names the field.
            if _is_catalog_code(response, spec):
                first = envelope
        else:
            observe(Req.ENVELOPE_ERROR_CODE)
    for requirement_id, check_fn in _schemathesis_checks():
        if only is not None and requirement_id not in only:
            continue
        try:
            case.validate_response(response, checks=[check_fn], headers=dict(response.request.headers))
        except FailureGroup as group:
            failure = group.exceptions[0]
            first = first or ContractViolation(
                requirement_id,
                f"{case.operation.label}: {failure.title}: {failure.message}"[:1500],
                response=response,
                curl_command=curl_command,
            )
            continue
        observe(requirement_id)
    first = first or envelope
    if first is not None:
        raise first


def tame(case: Any, audio: AudioSource, spec: Spec) -> Any:
    """Point generate cases at the kit's 404 audio and drop callbacks, so no random host is contacted."""
    body = case.body
    if case.operation.path == spec.operation("generateVideo").path and isinstance(body, dict):
        body = dict(body)
        if "audio_url" in body:
            body["audio_url"] = audio.missing()
        body.pop("callback_url", None)
        case.body = body
    return case


# -- hypothesis ---------------------------------------------------------------------------------------


def kit_settings(
    options: KitOptions,
    max_examples: int,
    *,
    phases: Sequence[Phase] = (Phase.explicit, Phase.generate),
    **more: Any,
) -> settings:
    """Reproducible runs: derandomized unless `--seed` is given, no example database (the kit runs in
    other people's CI), no deadline (the implementation's speed is not the kit's to judge), every
    health check off (a slow server is not a bad strategy), one bug reported."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=options.seed is None,
        suppress_health_check=list(HealthCheck),
        phases=list(phases),
        report_multiple_bugs=False,
        **more,
    )


def seeded(test: F, options: KitOptions) -> F:
    """`test` with the run's `--seed` applied, if one was given."""
    if options.seed is None:
        return test
    result: F = seed(options.seed)(test)
    return result
