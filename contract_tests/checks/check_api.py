"""Realtime operations and their documented errors: ping, characters, unknown ids, bad requests, auth."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode
from contract_tests.checks.support import conforms, envelope_code, expect_error, succeeded
from contract_tests.clocks import ping_clock_at, seconds_until
from contract_tests.evidence import observe as record
from contract_tests.evidence import unobserved
from contract_tests.requirement_ids import Req
from contract_tests.requirements import kinds
from contract_tests.violations import check
from contract_tests.watch import envelope_problems

if TYPE_CHECKING:
    import httpx

    from a2v_spec import Spec
    from contract_tests.audio_source import AudioSource
    from contract_tests.client import A2VClient
    from contract_tests.clocks import EarlyLogin
    from contract_tests.config import KitOptions, Profile
    from contract_tests.pacing import Pacer

requirement = pytest.mark.a2v_requirement
RATE_HEADERS = ("X-Ratelimit-Total", "X-Ratelimit-Left", "X-Ratelimit-Reset")
#: Valid-looking input for the operations that need some (an unknown id; audio on a closed port).
_INPUTS: dict[str, dict[str, Any]] = {
    "getVideo": {"params": {"video_id": "0" * 32}},
    "generateVideo": {"json_body": {"model_id": "eva_a0008", "audio_url": "http://127.0.0.1:9/a.wav"}},
}


@requirement(Req.PING)
def test_ping_needs_no_token(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.with_token(None).request_operation("ping", auth=False)
    check(response.status_code == 200, Req.PING, "ping without a token must answer 200", response=response)
    body = conforms(response, a2v_spec, "ping", Req.PING)
    check(body["data"]["pong"] is True, Req.PING, "data.pong must be true", response=response)


@requirement(Req.ENVELOPE)
def test_answers_are_envelopes(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    """A success, an unauthenticated success, an error of the API and a routing error: each is the
    envelope. (The kit's client judges every other JSON answer of the run the same way, `watch.py`.)"""
    prefix = "/" + a2v_spec.operation("ping").path.strip("/").split("/")[0]
    for response in (
        a2v_client.request_operation("ping", auth=False),
        a2v_client.request_operation("listCharacters"),
        a2v_client.request_operation("getVideo", params={"video_id": secrets.token_hex(16)}),
        a2v_client.request("GET", f"{prefix}/a2v/no-such-operation-{secrets.token_hex(4)}"),
    ):
        try:
            body = response.json()
        except ValueError:
            continue  # not JSON at all: A2V-FUZZ-CONTENT-TYPE and A2V-ERROR-ROUTING judge it
        problems = envelope_problems(body)
        check(
            not problems,
            Req.ENVELOPE,
            "; ".join(f"envelope field {name}: {reason}" for name, reason in problems),
            expected='{"code": int, "message": str, "data": ...}',
            response=response,
        )


@requirement(Req.CHARACTERS)
def test_character_list(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request_operation("listCharacters")
    check(response.status_code == 200, Req.CHARACTERS, "character.list must answer 200", response=response)
    body = conforms(response, a2v_spec, "listCharacters", Req.CHARACTERS)
    check(body["data"], Req.CHARACTERS, "character.list returned no character", response=response)
    ids = [c["model_id"] for c in body["data"]]
    check(len(ids) == len(set(ids)), Req.CHARACTERS, f"model_ids repeat: {ids}", response=response)


@requirement(Req.RATELIMIT_HEADERS)
@pytest.mark.parametrize(
    ("operation_id", "auth"),
    [
        ("ping", False),
        ("listCharacters", True),
        ("listVideos", True),
        ("getVideo", True),
        ("listVideos", False),
    ],
)
def test_rate_limit_headers(a2v_client: A2VClient, operation_id: str, auth: bool) -> None:
    response = a2v_client.request_operation(operation_id, auth=auth, **_INPUTS.get(operation_id, {}))
    for name in RATE_HEADERS:
        value = response.headers.get(name)
        check(
            value is not None and value.strip().isdigit(),
            Req.RATELIMIT_HEADERS,
            f"{name} is {'missing' if value is None else f'not a non-negative integer: {value!r}'}",
            expected=f"{name}: <integer>",
            response=response,
        )


@requirement(Req.ERROR_UNKNOWN_VIDEO)
def test_unknown_video_id(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    response = a2v_client.request_operation("getVideo", params={"video_id": secrets.token_hex(16)})
    expect_error(response, Req.ERROR_UNKNOWN_VIDEO, ErrorCode.VIDEO_NOT_FOUND, a2v_spec)
    # The control: an id the token owns is found, else a 20002 for an unknown one proves nothing.
    video_id = a2v_client.generate_video(a2v_model_id, a2v_audio.missing())
    known = a2v_client.request_operation("getVideo", params={"video_id": video_id})
    if not succeeded(known):
        raise unobserved(
            Req.ERROR_UNKNOWN_VIDEO,
            f"video.get of {video_id}, which this token just created, answered HTTP {known.status_code} "
            f"code {envelope_code(known)!r}: a 20002 for unknown ids tells nothing",
        )
    record(Req.ERROR_UNKNOWN_VIDEO, kinds.KNOWN_FOUND)


@requirement(Req.ANSWER_IN_TIME)
def test_operations_answer_in_time(
    a2v_client: A2VClient, a2v_options: KitOptions, a2v_audio: AudioSource, a2v_model_id: str
) -> None:
    """Realtime operations and the task API's generate each answer within the request timeout.

    A timeout anywhere in the run is reported under this id (the kit's client watches every request);
    here the three operations every client calls are timed on their own.
    """
    for send in (
        lambda: a2v_client.request_operation("ping", auth=False),
        lambda: a2v_client.request_operation("listCharacters"),
        lambda: a2v_client.request_operation(
            "generateVideo", json_body={"model_id": a2v_model_id, "audio_url": a2v_audio.missing()}
        ),
    ):
        started = time.monotonic()
        response = send()
        took = time.monotonic() - started
        check(
            took <= a2v_options.request_timeout,
            Req.ANSWER_IN_TIME,
            f"{response.request.method} {response.request.url.path} took {took:.1f} s",
            expected=f"an answer within {a2v_options.request_timeout:g} s",
            response=response,
        )


@requirement(Req.ERROR_UNKNOWN_MODEL)
def test_unknown_model_id(a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: Any) -> None:
    body = {"model_id": f"no_such_model_{secrets.token_hex(4)}", "audio_url": a2v_audio.fixture("speech.wav")}
    response = a2v_client.request_operation("generateVideo", json_body=body)
    expect_error(response, Req.ERROR_UNKNOWN_MODEL, ErrorCode.MODEL_NOT_FOUND, a2v_spec)


@requirement(Req.ERROR_BAD_REQUEST)
@pytest.mark.parametrize(
    ("case", "content", "content_type", "code"),
    [
        (
            "malformed JSON",
            b'{"model_id": "eva_a0008", "audio_url": ',
            "application/json",
            ErrorCode.MALFORMED_BODY,
        ),
        ("JSON that is not an object", b'["eva_a0008"]', "application/json", ErrorCode.MALFORMED_BODY),
        ("not JSON at all", b"model_id=eva_a0008", "text/plain", ErrorCode.UNSUPPORTED_MEDIA_TYPE),
        ("missing audio_url", b'{"model_id": "eva_a0008"}', "application/json", ErrorCode.INVALID_PARAMETER),
        (
            "audio_url not http",
            b'{"model_id": "eva_a0008", "audio_url": "ftp://x/a.wav"}',
            "application/json",
            ErrorCode.INVALID_PARAMETER,
        ),
    ],
)
def test_bad_generate_requests(
    a2v_client: A2VClient,
    a2v_spec: Spec,
    case: str,
    content: bytes,
    content_type: str,
    code: ErrorCode,
) -> None:
    response = a2v_client.request_operation(
        "generateVideo", content=content, headers={"Content-Type": content_type}
    )
    expect_error(response, Req.ERROR_BAD_REQUEST, code, a2v_spec)


@requirement(Req.ERROR_BAD_REQUEST)
def test_bad_query_parameter(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request_operation("listVideos", params={"page_size": "many"})
    expect_error(response, Req.ERROR_BAD_REQUEST, ErrorCode.INVALID_PARAMETER, a2v_spec)


@requirement(Req.ERROR_PAYLOAD_TOO_LARGE)
def test_oversized_body_is_refused_unprocessed(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_model_id: str
) -> None:
    limit = a2v_spec.limits.max_request_bytes
    # A valid request but for its size: processed, it would start a task.
    body = {"model_id": a2v_model_id, "audio_url": "https://example.com/a.wav", "padding": "x" * limit}
    # "Creates nothing" is seen in the caller's newest task (video.list is newest first), not in a
    # total, which an implementation need not send: a task the refused request started would be it.
    before = [v.video_id for v in a2v_client.list_videos(page_size=1).items]
    response = a2v_client.request_operation(
        "generateVideo",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    expect_error(response, Req.ERROR_PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, a2v_spec)
    after = [v.video_id for v in a2v_client.list_videos(page_size=1).items]
    listed = a2v_client.last_response
    check(
        after <= before,
        Req.ERROR_PAYLOAD_TOO_LARGE,
        f"the refused request still created a task (newest task {before or 'none'} -> {after or 'none'})",
        expected="no new task",
        response=listed,
    )
    record(Req.ERROR_PAYLOAD_TOO_LARGE, kinds.NOTHING_CREATED)


@requirement(Req.ERROR_ROUTING)
@pytest.mark.parametrize(
    ("method", "operation_id", "code"),
    [
        ("GET", "generateVideo", ErrorCode.METHOD_NOT_ALLOWED),
        ("DELETE", "getVideo", ErrorCode.METHOD_NOT_ALLOWED),
        ("GET", None, ErrorCode.NOT_FOUND),
    ],
)
def test_routing_errors(
    a2v_client: A2VClient, a2v_spec: Spec, method: str, operation_id: str | None, code: ErrorCode
) -> None:
    """A documented path with a method it does not take, and a path the spec does not have."""
    path = a2v_spec.operation(operation_id).path if operation_id else "/v1/a2v/no.such.operation"
    response = a2v_client.request(method, path)
    expect_error(response, Req.ERROR_ROUTING, code, a2v_spec)


_AUTH_CASES = [
    ("no header", None),
    ("empty bearer", "Bearer"),
    ("basic scheme", "Basic dXNlcjpwYXNz"),
    ("token without scheme", "just-a-token"),
]


@requirement(Req.AUTH_REQUIRED)
@pytest.mark.parametrize(("label", "header"), _AUTH_CASES, ids=[c[0] for c in _AUTH_CASES])
def test_auth_required(a2v_client: A2VClient, a2v_spec: Spec, label: str, header: str | None) -> None:
    """Every operation the spec secures refuses a missing or malformed Authorization header."""
    anonymous = a2v_client.with_token(None)
    secured = [op.operation_id for op in a2v_spec.operations.values() if op.needs_auth]
    check(secured, Req.AUTH_REQUIRED, "the spec secures no operation", expected="bearer-secured operations")
    for operation_id in secured:
        headers = {"Authorization": header} if header is not None else None
        inputs = _INPUTS.get(operation_id, {})
        response = anonymous.request_operation(operation_id, headers=headers, auth=False, **inputs)
        expect_error(response, Req.AUTH_REQUIRED, ErrorCode.UNAUTHORIZED, a2v_spec)


@requirement(Req.LOGIN)
def test_login(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    """Unknown credentials answer 401/1011; an open implementation may accept them, then the token works."""
    body = {"username": f"kit-{secrets.token_hex(6)}@example.invalid", "password": secrets.token_hex(8)}
    response = a2v_client.request_operation("login", json_body=body, auth=False)
    if response.status_code != 200:
        expect_error(response, Req.LOGIN, ErrorCode.INVALID_CREDENTIALS, a2v_spec)
        return
    data = conforms(response, a2v_spec, "login", Req.LOGIN)["data"]
    token_client = a2v_client.with_token(data["access_token"])
    used = token_client.request_operation("listCharacters")
    check(used.status_code == 200, Req.LOGIN, "the access_token from login is refused", response=used)


@requirement(Req.LOGIN_EXPIRED)
@pytest.mark.a2v_waits
def test_login_token_expires(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_profile: Profile, a2v_early_login: EarlyLogin
) -> None:
    """A token from account.login works until its `expired_at`, then answers 401 / 1002.

    The login is sent as the run starts and this check runs last (`contract_tests.clocks`), so it waits
    only for what is left of the token's life. Waited for only when the lifetime fits the profile's
    expiry wait (run the implementation with a short token lifetime to check it), like URL expiry.
    """
    rid = Req.LOGIN_EXPIRED
    response = a2v_early_login.answer()
    if response.status_code != 200:
        pytest.skip("account.login refused the kit's throwaway credentials; token expiry not checked")
    data = conforms(response, a2v_spec, "login", rid)["data"]
    expired_at = int(data["expired_at"])
    clock = ping_clock_at(a2v_client, response)
    # Without `Date` headers, what is left of its life from now (it was handed out earlier).
    lifetime = expired_at - (clock.now if clock.at_answer is None else clock.at_answer)
    if lifetime > a2v_profile.expiry_wait:
        pytest.skip(
            f"login tokens live {lifetime} s, longer than the {a2v_profile.name} profile waits "
            f"({a2v_profile.expiry_wait:g} s); run the implementation with a short token lifetime"
        )
    token_client = a2v_client.with_token(data["access_token"])
    time.sleep(seconds_until(expired_at, clock.now))
    used = token_client.request_operation("listCharacters")
    expect_error(used, rid, ErrorCode.TOKEN_EXPIRED, a2v_spec)
    record(rid, kinds.EXPIRED_USED)


def _limit_headers(response: httpx.Response) -> tuple[int, int, int] | None:
    try:
        return tuple(int(response.headers[name]) for name in RATE_HEADERS)  # type: ignore[return-value]
    except (KeyError, ValueError):
        return None  # A2V-RATELIMIT-HEADERS reports it


@requirement(Req.RATELIMIT_ARITHMETIC)
def test_rate_limit_counts_down(a2v_client: A2VClient, a2v_pacer: Pacer) -> None:
    """Three calls in a row: Left drops by the requests the kit sent with this token in between (one,
    plus any of the shared tasks' polls running meanwhile) unless the window reset; Total stays;
    Left never exceeds Total."""
    rid = Req.RATELIMIT_ARITHMETIC
    key = a2v_client.token or ""
    seen = []
    for _ in range(3):
        # Before sending: what the kit had sent with this token, and what of it was still unanswered.
        before = a2v_pacer.sent_by_token.get(key, 0) - a2v_pacer.in_flight(key)
        response = a2v_client.request_operation("listCharacters")
        seen.append((_limit_headers(response), time.monotonic(), before, a2v_pacer.sent_by_token.get(key, 0)))
    for (prev, prev_at, before, _), (cur, at, _, sent) in itertools.pairwise(seen):
        if prev is None or cur is None:
            continue
        (total0, left0, reset0), (total, left, reset) = prev, cur
        check(total == total0, rid, f"X-Ratelimit-Total changed from {total0} to {total}")
        check(0 <= left <= total, rid, f"X-Ratelimit-Left {left} is outside 0..{total}")
        new_window = reset > reset0 + 1 or at - prev_at >= reset0
        if new_window:
            continue
        # At most every request of the kit with this token not yet counted when the previous answer
        # was made (the shared tasks poll in parallel); at least this one.
        most = max(1, sent - before - 1)  # less the previous request, which left0 already counts
        check(
            1 <= left0 - left <= most,
            rid,
            f"X-Ratelimit-Left went from {left0} to {left} while the kit sent at most {most} request(s) "
            "with this token in the same window",
            expected=f"X-Ratelimit-Left between {left0 - most} and {left0 - 1}",
        )
        record(rid, kinds.COUNTED_DOWN)


@requirement(Req.RATELIMIT_429)
def test_over_the_limit_answers_429_with_retry_after(
    a2v_options: KitOptions,
    a2v_spec: Spec,
    a2v_client: A2VClient,
    a2v_transport: httpx.BaseTransport | None,
) -> None:
    """Opt-in (--provoke-429): spend what is left of the window, one more, then wait the window out."""
    if not a2v_options.provoke_429:
        pytest.skip("opt-in: pass --provoke-429 to exhaust the rate limit once and check the 429")
    from contract_tests.client import A2VClient as Unpaced

    rid = Req.RATELIMIT_429
    client = Unpaced(a2v_options.base_url, a2v_options.api_key, transport=a2v_transport, spec=a2v_spec)
    first = _limit_headers(client.request_operation("listCharacters"))
    if first is None or first[1] > 500:
        pytest.skip(f"the announced limit ({first}) is too large to exhaust in a check")
    response = None
    for _ in range(first[1] + 2):
        response = client.request_operation("listCharacters", retries=0)
        if response.status_code == 429:
            break
    assert response is not None
    expect_error(response, rid, ErrorCode.TOO_MANY_REQUESTS, a2v_spec)
    retry_after = response.headers.get("Retry-After", "")
    check(
        retry_after.strip().isdigit(),
        rid,
        f"the 429 has Retry-After {retry_after!r}",
        expected="Retry-After: <seconds>",
        response=response,
    )
    record(rid, kinds.RATE_LIMITED)
    time.sleep(int(retry_after) + 0.5)  # leave the window as the rest of the run expects it
