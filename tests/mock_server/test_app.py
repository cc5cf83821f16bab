"""The app as a whole: spec and docs endpoints, test mode, unhandled errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

from mock_server.api import handlers
from mock_server.config import Settings
from mock_server.errors import ResponseMismatch
from mock_server.runtime.app import create_app
from mock_server.testing import app_client, run_server

from .conftest import TEST_SETTINGS

if TYPE_CHECKING:
    from pathlib import Path


def test_spec_and_offline_docs(tmp_path: Path) -> None:
    with app_client(create_app(Settings(data_dir=tmp_path, prewarm=False))) as client:
        spec = client.get("/openapi.yaml")
        assert spec.status_code == 200
        assert yaml.safe_load(spec.text)["openapi"].startswith("3.1")
        page = client.get("/docs")
        assert page.status_code == 200
        assert "/docs/assets/swagger-ui-bundle.js" in page.text
        assert "https://" not in page.text  # no CDN
        assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
        assert client.get("/docs/assets/swagger-ui.css").status_code == 200
        assert client.get("/docs/openapi.json").json()["servers"][0]["url"] == "http://testserver"


async def _bad_ping(*args: Any) -> Any:
    return {"pong": "yes"}


def test_test_mode_turns_a_wrong_response_into_a_loud_500(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(handlers.HANDLERS, "ping", _bad_ping)
    app = create_app(Settings(data_dir=tmp_path, prewarm=False, test_mode=True))
    with app_client(app) as client, pytest.raises(ResponseMismatch, match="pong"):
        client.get("/v1/ping")
    assert len(app.state.mock.violations) == 1


def test_test_mode_over_a_socket_answers_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(handlers.HANDLERS, "listCharacters", _bad_ping)
    with run_server(**TEST_SETTINGS, prewarm=False) as server:
        response = httpx.get(
            f"{server.base_url}/v1/a2v/character.list", headers={"Authorization": "Bearer t"}
        )
        assert response.status_code == 500
        assert response.json()["code"] == 1500
        assert "does not match the spec" in response.json()["message"]
        assert server.mock.violations
        server.mock.violations.clear()
    assert "does not match the spec" in caplog.text


def test_without_test_mode_responses_are_not_checked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(handlers.HANDLERS, "ping", _bad_ping)
    with app_client(create_app(Settings(data_dir=tmp_path, prewarm=False))) as client:
        assert client.get("/v1/ping").json()["data"] == {"pong": "yes"}


async def _boom(*args: Any) -> Any:
    raise RuntimeError("boom")


def test_unexpected_errors_answer_1500_in_the_envelope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(handlers.HANDLERS, "listCharacters", _boom)
    with run_server(prewarm=False) as server:
        response = httpx.get(
            f"{server.base_url}/v1/a2v/character.list", headers={"Authorization": "Bearer t"}
        )
        assert response.status_code == 500
        assert response.json() == {"code": 1500, "message": "internal error: RuntimeError", "data": None}
        assert "X-Ratelimit-Total" in response.headers
