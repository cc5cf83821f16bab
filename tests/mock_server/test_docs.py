"""`/docs` (Swagger UI 5, offline) and the two documents it shows: the spec and the admin API's own."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from a2v_spec import load_spec
from a2v_spec.pointer import escape, resolve_refs
from a2v_spec.schemas import SchemaSet
from mock_server.admin.docs import ADMIN_SPEC_PATH, admin_document
from mock_server.config import Settings
from mock_server.runtime.app import create_app
from mock_server.testing import app_client

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx
    from starlette.applications import Starlette

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    return create_app(
        Settings(data_dir=tmp_path_factory.mktemp("docs"), prewarm=False, audio_hosts=["127.0.0.1"])
    )


@pytest.fixture(scope="module")
def client(app: Starlette) -> Iterator[httpx.Client]:
    with app_client(app) as client:
        yield client


def test_docs_page_is_swagger_ui_5_served_offline_with_both_documents(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text
    assert "https://" not in page.text  # no CDN
    assert '"/docs/openapi.json"' in page.text
    assert '"/docs/admin-openapi.json"' in page.text
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    assert "isOAS31" in bundle.text  # Swagger UI 5 reads OpenAPI 3.1; 4.x refused it
    assert client.get("/docs/assets/swagger-ui-standalone-preset.js").status_code == 200
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200


def test_docs_show_the_real_31_document_with_this_server_first(client: httpx.Client) -> None:
    served = client.get("/docs/openapi.json").json()
    spec = load_spec().document
    assert served["openapi"] == spec["openapi"] == "3.1.0"
    assert served["servers"][0]["url"] == "http://testserver"
    assert served["servers"][1:] == spec["servers"]
    assert {k: v for k, v in served.items() if k not in ("servers", "info")} == {
        k: v for k, v in spec.items() if k not in ("servers", "info")
    }
    # The page adds a note about this mock (console, samples) before the spec's own description.
    description = served["info"]["description"]
    assert description.startswith("**This is the a2v-mock server.**")
    assert description.endswith(spec["info"]["description"])
    assert {k: v for k, v in served["info"].items() if k != "description"} == {
        k: v for k, v in spec["info"].items() if k != "description"
    }
    # The error catalog is where Swagger UI shows it: the description, and the ErrorCode<status> and
    # TaskErrorCode schemas for the codes an operation answers.
    enums = " ".join(
        schema["description"]
        for name, schema in served["components"]["schemas"].items()
        if name.startswith(("ErrorCode", "TaskErrorCode"))
    )
    for code, row in load_spec().errors.items():
        assert f"| `{code}` |" in served["info"]["description"], code
        if row.http_status not in (403, 405, 416):
            assert row.meaning in enums, code
    assert client.get("/openapi.yaml").content == load_spec().path.read_bytes()  # type: ignore[union-attr]


def test_admin_document_is_valid_31_and_served_both_ways(client: httpx.Client) -> None:
    document = yaml.safe_load(ADMIN_SPEC_PATH.read_text())
    validate(document)
    served_yaml = client.get("/__admin/openapi.yaml")
    assert served_yaml.status_code == 200
    assert served_yaml.content == ADMIN_SPEC_PATH.read_bytes()
    served = client.get("/docs/admin-openapi.json").json()
    assert served["servers"][0]["url"] == "http://testserver/__admin"
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in document.items() if k != "servers"
    }


def _admin_routes(app: Starlette) -> set[tuple[str, str]]:
    """(method, path) of every admin endpoint the app serves, read from its router."""
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/__admin")
    found = set()
    for route in mount.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method.lower() in METHODS:
                found.add((method.lower(), route.path))
    return found


def test_every_admin_route_is_documented_and_vice_versa(app: Starlette) -> None:
    documented = {
        (method, path)
        for path, item in admin_document()["paths"].items()
        for method in item
        if method in METHODS
    }
    assert documented == _admin_routes(app)


class AdminResponses:
    """Validates admin answers against the schema the admin document gives their status."""

    def __init__(self) -> None:
        self.document = admin_document()
        self.schemas = SchemaSet(self.document)
        self.checked: set[tuple[str, str, int]] = set()

    def check(self, method: str, path: str, template: str, response: httpx.Response) -> Any:
        operation = self.document["paths"][template][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.text)
        pointer = f"/paths/{escape(template)}/{method}/responses/{status}"
        ref = operation["responses"][status].get("$ref")
        if ref:
            pointer = ref.lstrip("#")
        assert "application/json" in resolve_refs(self.document, operation["responses"][status])["content"]
        errors = self.schemas.errors(f"{pointer}/content/application~1json/schema", response.json())
        assert errors == [], (method, path, status, [str(e) for e in errors])
        self.checked.add((method, template, response.status_code))
        return response.json()


def test_real_admin_responses_validate_against_the_admin_document(client: httpx.Client) -> None:
    admin = AdminResponses()
    token = {"Authorization": "Bearer docs-admin"}

    def call(method: str, path: str, template: str | None = None, **options: Any) -> Any:
        response = client.request(method.upper(), f"/__admin{path}", **options)
        return admin.check(method, path, template or path, response)

    created = client.post(
        "/v1/a2v/video.generate",
        json={
            "model_id": "eva_a0008",
            "audio_url": "http://127.0.0.1:9/a.wav",
            "callback_url": "http://127.0.0.1:9/cb",
        },
        headers={**token, "Prefer": "duration=30"},
    ).json()["data"]["video_id"]
    call("get", "/scenario")
    call("put", "/scenario", json={"timings": {"pending_seconds": 0.1}, "next_tasks": [{"outcome": "error"}]})
    call("put", "/scenario", json={"bogus": 1})
    call("put", "/scenario", content=b"[", headers={"Content-Type": "application/json"})
    call("put", "/scenario", json={"next_tasks": [], "timings": {"pending_seconds": 0}})
    call("get", "/tasks", params={"tenant": "docs-admin"})
    call("post", f"/tasks/{created}", "/tasks/{video_id}", json={"status": "in_progressing", "progress": 50})
    call("post", f"/tasks/{created}", "/tasks/{video_id}", json={"status": "error", "error_code": 10003})
    call("post", f"/tasks/{created}", "/tasks/{video_id}", json={"status": "finished"})
    call("post", f"/tasks/{'0' * 32}", "/tasks/{video_id}", json={"status": "finished"})
    deadline = time.monotonic() + 10
    while not call("get", "/callbacks", params={"tenant": "docs-admin"}) and time.monotonic() < deadline:
        time.sleep(0.1)
    call("get", "/tasks", params={"status": "error"})
    call("get", "/info")
    call("get", "/tenants")
    call("post", "/tenants/label", json={"token": "docs-admin"})
    call("post", "/tenants/label", json={})
    call("get", "/requests", params={"limit": 2, "path": "/v1/*"})
    call("get", "/requests", params={"status": "x"})
    call("get", "/requests/count", params={"path": "/v1/*", "tenant": "docs-admin"})
    call("get", "/requests/count", params={"since": "yesterday"})
    octets = {"Content-Type": "application/octet-stream"}
    call("post", "/uploads", params={"name": "a.wav"}, content=b"RIFF0000", headers=octets)
    call("post", "/uploads", params={"name": "../a.wav"}, content=b"RIFF0000", headers=octets)
    call("post", "/reset", json={"tenant": "docs-admin"})
    call("post", "/reset", json={"tenant": 5})
    checked = {(method, path) for method, path, _ in admin.checked}
    assert checked == {(m, p) for m, p in _admin_routes_from_document()}
    assert {status for _, _, status in admin.checked} >= {200, 400, 404}


def _admin_routes_from_document() -> set[tuple[str, str]]:
    return {(m, p) for p, item in admin_document()["paths"].items() for m in item if m in METHODS}


def test_admin_401_answers_validate_when_the_mock_has_an_admin_key(tmp_path: Path) -> None:
    admin = AdminResponses()
    app = create_app(Settings(data_dir=tmp_path, prewarm=False, admin_key="sesame", api_keys=["k"]))
    with app_client(app) as client:
        for method, path in sorted(_admin_routes_from_document()):
            concrete = path.replace("{video_id}", "0" * 32)
            response = client.request(method.upper(), f"/__admin{concrete}", json={})
            assert response.status_code == 401, (method, path)
            admin.check(method, concrete, path, response)


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_admin_index_lists_every_served_admin_call_and_points_at_the_document(
    app: Starlette, client: httpx.Client
) -> None:
    served = {(method.upper(), f"/__admin{path}") for method, path in _admin_routes(app)}
    for path in ("/__admin/", "/__admin"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        data = answer.json()["data"]
        assert data["openapi"] == "/__admin/openapi.yaml"
        assert {(c["method"], c["path"]) for c in data["calls"]} == served
        assert all(c["summary"] for c in data["calls"])
        assert client.get(data["openapi"]).status_code == 200
    page = client.get("/__admin/", headers={"Accept": BROWSER_ACCEPT})
    assert page.headers["content-type"].startswith("text/html")
    assert 'href="/__admin/openapi.yaml"' in page.text
    for _, path in served:
        assert f"<code>{path}</code>" in page.text
