"""Secrets stay out of what the mock shows: the journal (and the console that reads it) never holds a
password or an issued token, and in keyed mode the admin API needs the admin key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_server.redact import REDACTED, redact_body

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.testing import RunningServer

PASSWORD = "pw-do-not-show-7f3a"


def test_login_passwords_and_tokens_are_redacted_in_the_journal(serve: Callable[..., RunningServer]) -> None:
    server = serve(users={"dev": PASSWORD})
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        login = client.post("/v1/auth/account.login", json={"username": "dev", "password": PASSWORD})
        assert login.status_code == 200, login.text
        tokens = login.json()["data"]
        wrong = client.post(
            "/v1/auth/account.login", json={"username": "dev", "password": "wrong-" + PASSWORD}
        )
        assert wrong.status_code == 401
        listed = client.get("/__admin/requests", params={"path": "/v1/auth/*"})
    entries = listed.json()["data"]["requests"]
    assert len(entries) == 2
    shown = json.dumps(entries)
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in shown
    request = json.loads(entries[-1]["request"]["body"])  # newest first: the good login is the older
    response = json.loads(entries[-1]["response"]["body"])["data"]
    assert request == {"username": "dev", "password": REDACTED}
    assert (response["access_token"], response["refresh_token"]) == (REDACTED, REDACTED)
    assert response["expired_at"] == tokens["expired_at"]  # what is not secret is kept
    assert server.mock.journal.query(contains=PASSWORD) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"username":"u","password":"p"}', '{"username":"u","password":"<redacted>"}'),
        ('{"pass\\u0077ord": "p"}', '{"pass\\u0077ord": "<redacted>"}'),  # an escaped key is the key
        ('{"password": 1234, "x": 2}', '{"password": "<redacted>", "x": 2}'),  # whatever its type
        ('{"a": "b", "password": "cut-at-the-ca', '{"a": "b", "password": "<redacted>"'),  # truncated
        ('{"note": "\\"password\\": \\"x\\""}', '{"note": "\\"password\\": \\"x\\""}'),  # in a string
        ('["password", "kept"]', '["password", "kept"]'),  # an array item is not a member name
        ('{"data": {"refresh_token" : "r"}}', '{"data": {"refresh_token" : "<redacted>"}}'),
        ("not json password: x", "not json password: x"),
    ],
)
def test_redact_body(body: str, expected: str) -> None:
    assert redact_body(body) == expected


ADMIN_CALLS = [
    ("GET", "/__admin/info"),
    ("GET", "/__admin/tasks"),
    ("GET", "/__admin/requests"),
    ("GET", "/__admin/callbacks"),
    ("POST", "/__admin/reset"),
    ("PUT", "/__admin/scenario"),
    ("POST", "/__admin/uploads?name=a.wav"),
]


def test_keyed_mode_without_an_admin_key_has_no_admin_api(serve: Callable[..., RunningServer]) -> None:
    server = serve(api_keys=["tenant-a", "tenant-b"])
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        kept = client.post(
            "/v1/a2v/video.generate",
            json={"model_id": "eva_a0008", "audio_url": f"{server.base_url}/samples/short.wav"},
            headers={"Authorization": "Bearer tenant-a"},
        ).json()["data"]["video_id"]
        for token in (None, "tenant-b", "tenant-a"):  # nobody, another tenant, the owner
            headers = {} if token is None else {"Authorization": f"Bearer {token}"}
            for method, path in ADMIN_CALLS:
                answer = client.request(method, path, headers=headers, content=b"{}")
                assert (answer.status_code, answer.json()["code"]) == (403, 1012), (token, path)
                assert "--admin-key" in answer.json()["message"]
        still = client.get(
            "/v1/a2v/video.get", params={"video_id": kept}, headers={"Authorization": "Bearer tenant-a"}
        )
    assert still.status_code == 200  # no reset went through


def test_keyed_mode_with_an_admin_key_serves_it_to_that_key_only(serve: Callable[..., RunningServer]) -> None:
    server = serve(api_keys=["tenant-a"], admin_key="the-admin-key")
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        refused = client.get("/__admin/tasks", headers={"Authorization": "Bearer tenant-a"})
        served = client.get("/__admin/tasks", headers={"Authorization": "Bearer the-admin-key"})
    assert (refused.status_code, refused.json()["code"]) == (401, 1001)
    assert (served.status_code, served.json()["code"]) == (200, 0)


def test_open_mode_keeps_its_admin_api_open(serve: Callable[..., RunningServer]) -> None:
    server = serve()
    assert httpx.get(f"{server.base_url}/__admin/tasks", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("settings", "shown"),
    [
        ({"api_keys": ["k"]}, "off: keyed mode needs --admin-key"),
        ({"api_keys": ["k"], "admin_key": "a"}, "admin key required"),
        ({}, "(open)"),
    ],
)
def test_the_banner_says_whether_the_admin_api_is_served(settings: dict[str, Any], shown: str) -> None:
    from mock_server.config import Settings
    from mock_server.runtime.startup import banner

    line = next(text for text in banner(Settings(**settings), 8000, []).splitlines() if "__admin" in text)
    assert shown in line
