"""Realtime operations and their documented errors: ping, characters, unknown ids, bad requests, auth."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import ErrorCode
from contract_tests.checks.support import conforms, expect_error
from contract_tests.violations import check

if TYPE_CHECKING:
    from a2v_spec import Spec
    from contract_tests.client import A2VClient

requirement = pytest.mark.a2v_requirement
RATE_HEADERS = ("X-Ratelimit-Total", "X-Ratelimit-Left", "X-Ratelimit-Reset")
#: Valid-looking input for the operations that need some (an unknown id; audio on a closed port).
_INPUTS: dict[str, dict[str, Any]] = {
    "getVideo": {"params": {"video_id": "0" * 32}},
    "generateVideo": {"json_body": {"model_id": "eva_a0008", "audio_url": "http://127.0.0.1:9/a.wav"}},
}


@requirement("A2V-PING")
def test_ping_needs_no_token(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.with_token(None).request_operation("ping", auth=False)
    check(response.status_code == 200, "A2V-PING", "ping without a token must answer 200", response=response)
    body = conforms(response, a2v_spec, "ping", "A2V-PING")
    check(body["data"]["pong"] is True, "A2V-PING", "data.pong must be true", response=response)


@requirement("A2V-CHARACTERS")
def test_character_list(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request_operation("listCharacters")
    check(response.status_code == 200, "A2V-CHARACTERS", "character.list must answer 200", response=response)
    body = conforms(response, a2v_spec, "listCharacters", "A2V-CHARACTERS")
    check(body["data"], "A2V-CHARACTERS", "character.list returned no character", response=response)
    ids = [c["model_id"] for c in body["data"]]
    check(len(ids) == len(set(ids)), "A2V-CHARACTERS", f"model_ids repeat: {ids}", response=response)


@requirement("A2V-RATELIMIT-HEADERS")
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
            "A2V-RATELIMIT-HEADERS",
            f"{name} is {'missing' if value is None else f'not a non-negative integer: {value!r}'}",
            expected=f"{name}: <integer>",
            response=response,
        )


@requirement("A2V-ERROR-UNKNOWN-VIDEO")
def test_unknown_video_id(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request_operation("getVideo", params={"video_id": secrets.token_hex(16)})
    expect_error(response, "A2V-ERROR-UNKNOWN-VIDEO", ErrorCode.VIDEO_NOT_FOUND, a2v_spec)


@requirement("A2V-ERROR-UNKNOWN-MODEL")
def test_unknown_model_id(a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: Any) -> None:
    body = {"model_id": f"no_such_model_{secrets.token_hex(4)}", "audio_url": a2v_audio.fixture("speech.wav")}
    response = a2v_client.request_operation("generateVideo", json_body=body)
    expect_error(response, "A2V-ERROR-UNKNOWN-MODEL", ErrorCode.MODEL_NOT_FOUND, a2v_spec)


@requirement("A2V-ERROR-BAD-REQUEST")
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
    expect_error(response, "A2V-ERROR-BAD-REQUEST", code, a2v_spec)


@requirement("A2V-ERROR-BAD-REQUEST")
def test_bad_query_parameter(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request_operation("listVideos", params={"page_size": "many"})
    expect_error(response, "A2V-ERROR-BAD-REQUEST", ErrorCode.INVALID_PARAMETER, a2v_spec)


@requirement("A2V-ERROR-PAYLOAD-TOO-LARGE")
def test_oversized_body_is_refused_unprocessed(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_model_id: str
) -> None:
    limit = a2v_spec.limits.max_request_bytes
    # A valid request but for its size: processed, it would start a task.
    body = {"model_id": a2v_model_id, "audio_url": "https://example.com/a.wav", "padding": "x" * limit}
    before = a2v_client.list_videos(page_size=1).total
    response = a2v_client.request_operation(
        "generateVideo",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    expect_error(response, "A2V-ERROR-PAYLOAD-TOO-LARGE", ErrorCode.PAYLOAD_TOO_LARGE, a2v_spec)
    after = a2v_client.list_videos(page_size=1).total
    check(
        after == before,
        "A2V-ERROR-PAYLOAD-TOO-LARGE",
        f"the refused request still created a task (video.list total {before} -> {after})",
        expected="no new task",
    )


@requirement("A2V-ERROR-ROUTING")
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
    expect_error(response, "A2V-ERROR-ROUTING", code, a2v_spec)


_AUTH_CASES = [
    ("no header", None),
    ("empty bearer", "Bearer"),
    ("basic scheme", "Basic dXNlcjpwYXNz"),
    ("token without scheme", "just-a-token"),
]


@requirement("A2V-AUTH-REQUIRED")
@pytest.mark.parametrize(("label", "header"), _AUTH_CASES, ids=[c[0] for c in _AUTH_CASES])
def test_auth_required(a2v_client: A2VClient, a2v_spec: Spec, label: str, header: str | None) -> None:
    """Every operation the spec secures refuses a missing or malformed Authorization header."""
    anonymous = a2v_client.with_token(None)
    secured = [op.operation_id for op in a2v_spec.operations.values() if op.needs_auth]
    check(secured, "A2V-AUTH-REQUIRED", "the spec secures no operation", expected="bearer-secured operations")
    for operation_id in secured:
        headers = {"Authorization": header} if header is not None else None
        inputs = _INPUTS.get(operation_id, {})
        response = anonymous.request_operation(operation_id, headers=headers, auth=False, **inputs)
        expect_error(response, "A2V-AUTH-REQUIRED", ErrorCode.UNAUTHORIZED, a2v_spec)


@requirement("A2V-LOGIN")
def test_login(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    """Unknown credentials answer 401/1011; an open implementation may accept them, then the token works."""
    body = {"username": f"kit-{secrets.token_hex(6)}@example.invalid", "password": secrets.token_hex(8)}
    response = a2v_client.request_operation("login", json_body=body, auth=False)
    if response.status_code != 200:
        expect_error(response, "A2V-LOGIN", ErrorCode.INVALID_CREDENTIALS, a2v_spec)
        return
    data = conforms(response, a2v_spec, "login", "A2V-LOGIN")["data"]
    token_client = a2v_client.with_token(data["access_token"])
    used = token_client.request_operation("listCharacters")
    check(used.status_code == 200, "A2V-LOGIN", "the access_token from login is refused", response=used)
