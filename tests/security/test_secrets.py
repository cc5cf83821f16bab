"""Secrets stay out of what the mock shows: the journal (and the console that reads it) never holds a
password or an issued token, and in keyed mode the admin API needs the admin key."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

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
    entries = listed.json()["data"]
    assert len(entries) == 2
    shown = json.dumps(entries)
    for secret in (PASSWORD, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in shown
    request = json.loads(entries[0]["request"]["body"])
    response = json.loads(entries[0]["response"]["body"])["data"]
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
