"""Realtime operations and their documented errors: ping, characters, unknown ids, bad requests, auth."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from contract_tests.verdict import ContractViolation, check

if TYPE_CHECKING:
    import httpx

    from a2v_spec import Spec
    from contract_tests.client import A2VClient

requirement = pytest.mark.a2v_requirement
RATE_HEADERS = ("X-Ratelimit-Total", "X-Ratelimit-Left", "X-Ratelimit-Reset")


def envelope(response: httpx.Response, requirement_id: str = "A2V-FUZZ-RESPONSE-SCHEMA") -> dict[str, Any]:
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


def expect_error(response: httpx.Response, requirement_id: str, status: int, code: int, spec: Spec) -> None:
    """The answer is HTTP `status` with envelope `code`, `data: null` and a message."""
    body = envelope(response, requirement_id)
    expected = f"HTTP {status}, code {code} ({spec.errors[code].message}), data null"
    check(
        response.status_code == status and body.get("code") == code,
        requirement_id,
        f"expected HTTP {status} / {code}, got HTTP {response.status_code} / {body.get('code')!r}",
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


@requirement("A2V-PING")
def test_ping_needs_no_token(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.with_token(None).request("GET", "/v1/ping", auth=False)
    check(response.status_code == 200, "A2V-PING", "ping without a token must answer 200", response=response)
    body = conforms(response, a2v_spec, "ping", "A2V-PING")
    check(body["data"]["pong"] is True, "A2V-PING", "data.pong must be true", response=response)


@requirement("A2V-CHARACTERS")
def test_character_list(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request("GET", "/v1/a2v/character.list")
    check(response.status_code == 200, "A2V-CHARACTERS", "character.list must answer 200", response=response)
    body = conforms(response, a2v_spec, "listCharacters", "A2V-CHARACTERS")
    check(body["data"], "A2V-CHARACTERS", "character.list returned no character", response=response)
    ids = [c["model_id"] for c in body["data"]]
    check(len(ids) == len(set(ids)), "A2V-CHARACTERS", f"model_ids repeat: {ids}", response=response)


@requirement("A2V-RATELIMIT-HEADERS")
@pytest.mark.parametrize(
    ("method", "path", "auth"),
    [
        ("GET", "/v1/ping", False),
        ("GET", "/v1/a2v/character.list", True),
        ("GET", "/v1/a2v/video.list", True),
        ("GET", "/v1/a2v/video.get?video_id=00000000000000000000000000000000", True),
        ("GET", "/v1/a2v/video.list", False),
    ],
)
def test_rate_limit_headers(a2v_client: A2VClient, method: str, path: str, auth: bool) -> None:
    response = a2v_client.request(method, path, auth=auth)
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
    response = a2v_client.request("GET", "/v1/a2v/video.get", params={"video_id": secrets.token_hex(16)})
    expect_error(response, "A2V-ERROR-UNKNOWN-VIDEO", 404, 20002, a2v_spec)


@requirement("A2V-ERROR-UNKNOWN-MODEL")
def test_unknown_model_id(a2v_client: A2VClient, a2v_spec: Spec, a2v_audio: Any) -> None:
    body = {"model_id": f"no_such_model_{secrets.token_hex(4)}", "audio_url": a2v_audio.fixture("speech.wav")}
    response = a2v_client.request("POST", "/v1/a2v/video.generate", json_body=body)
    expect_error(response, "A2V-ERROR-UNKNOWN-MODEL", 404, 20001, a2v_spec)


@requirement("A2V-ERROR-BAD-REQUEST")
@pytest.mark.parametrize(
    ("case", "content", "content_type", "status", "code"),
    [
        ("malformed JSON", b'{"model_id": "eva_a0008", "audio_url": ', "application/json", 400, 1004),
        ("JSON that is not an object", b'["eva_a0008"]', "application/json", 400, 1004),
        ("not JSON at all", b"model_id=eva_a0008", "text/plain", 415, 1005),
        ("missing audio_url", b'{"model_id": "eva_a0008"}', "application/json", 400, 1003),
        (
            "audio_url not http",
            b'{"model_id": "eva_a0008", "audio_url": "ftp://x/a.wav"}',
            "application/json",
            400,
            1003,
        ),
    ],
)
def test_bad_generate_requests(
    a2v_client: A2VClient,
    a2v_spec: Spec,
    case: str,
    content: bytes,
    content_type: str,
    status: int,
    code: int,
) -> None:
    response = a2v_client.request(
        "POST", "/v1/a2v/video.generate", content=content, headers={"Content-Type": content_type}
    )
    expect_error(response, "A2V-ERROR-BAD-REQUEST", status, code, a2v_spec)


@requirement("A2V-ERROR-BAD-REQUEST")
def test_bad_query_parameter(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    response = a2v_client.request("GET", "/v1/a2v/video.list", params={"page_size": "many"})
    expect_error(response, "A2V-ERROR-BAD-REQUEST", 400, 1003, a2v_spec)


@requirement("A2V-ERROR-PAYLOAD-TOO-LARGE")
def test_oversized_body_is_refused_unprocessed(
    a2v_client: A2VClient, a2v_spec: Spec, a2v_model_id: str
) -> None:
    limit = a2v_spec.limits.max_request_bytes
    # A valid request but for its size: processed, it would start a task.
    body = {"model_id": a2v_model_id, "audio_url": "https://example.com/a.wav", "padding": "x" * limit}
    before = a2v_client.list_videos(page_size=1).total
    response = a2v_client.request(
        "POST",
        "/v1/a2v/video.generate",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    expect_error(response, "A2V-ERROR-PAYLOAD-TOO-LARGE", 413, 1013, a2v_spec)
    after = a2v_client.list_videos(page_size=1).total
    check(
        after == before,
        "A2V-ERROR-PAYLOAD-TOO-LARGE",
        f"the refused request still created a task (video.list total {before} -> {after})",
        expected="no new task",
    )


@requirement("A2V-ERROR-ROUTING")
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/a2v/video.generate", 405, 1006),
        ("DELETE", "/v1/a2v/video.get", 405, 1006),
        ("GET", "/v1/a2v/no.such.operation", 404, 1007),
    ],
)
def test_routing_errors(
    a2v_client: A2VClient, a2v_spec: Spec, method: str, path: str, status: int, code: int
) -> None:
    response = a2v_client.request(method, path)
    expect_error(response, "A2V-ERROR-ROUTING", status, code, a2v_spec)


_AUTH_CASES = [
    ("no header", None),
    ("empty bearer", "Bearer"),
    ("basic scheme", "Basic dXNlcjpwYXNz"),
    ("token without scheme", "just-a-token"),
]
_AUTH_OPERATIONS = [
    ("GET", "/v1/a2v/character.list", None),
    ("GET", "/v1/a2v/video.list", None),
    ("GET", "/v1/a2v/video.get?video_id=00000000000000000000000000000000", None),
    ("POST", "/v1/a2v/video.generate", {"model_id": "eva_a0008", "audio_url": "http://127.0.0.1:9/a.wav"}),
]


@requirement("A2V-AUTH-REQUIRED")
@pytest.mark.parametrize(("label", "header"), _AUTH_CASES, ids=[c[0] for c in _AUTH_CASES])
def test_auth_required(a2v_client: A2VClient, a2v_spec: Spec, label: str, header: str | None) -> None:
    anonymous = a2v_client.with_token(None)
    for method, path, body in _AUTH_OPERATIONS:
        headers = {"Authorization": header} if header is not None else None
        response = anonymous.request(method, path, json_body=body, headers=headers, auth=False)
        expect_error(response, "A2V-AUTH-REQUIRED", 401, 1001, a2v_spec)


@requirement("A2V-LOGIN")
def test_login(a2v_client: A2VClient, a2v_spec: Spec) -> None:
    """Unknown credentials answer 401/1011; an open implementation may accept them, then the token works."""
    body = {"username": f"kit-{secrets.token_hex(6)}@example.invalid", "password": secrets.token_hex(8)}
    response = a2v_client.request("POST", "/v1/auth/account.login", json_body=body, auth=False)
    if response.status_code != 200:
        expect_error(response, "A2V-LOGIN", 401, 1011, a2v_spec)
        return
    data = conforms(response, a2v_spec, "login", "A2V-LOGIN")["data"]
    token_client = a2v_client.with_token(data["access_token"])
    used = token_client.request("GET", "/v1/a2v/character.list")
    check(used.status_code == 200, "A2V-LOGIN", "the access_token from login is refused", response=used)
