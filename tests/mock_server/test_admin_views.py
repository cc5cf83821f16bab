"""mock_server/admin/listings.py, console.py and cors.py over HTTP: what the console and tools rely on."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import httpx
import pytest

from mock_server.redact import tenant_label
from mock_server.tasks.samples import Samples
from mock_server.testing import run_server

from .conftest import wait_for

if TYPE_CHECKING:
    from mock_server.testing import RunningServer

    from .conftest import Generate


def data(response: httpx.Response) -> object:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 0
    return body["data"]


def test_console_is_served_from_the_package(server: RunningServer) -> None:
    redirect = httpx.get(f"{server.base_url}/console")
    page = httpx.get(f"{server.base_url}/console/")
    script = httpx.get(f"{server.base_url}/console/app.js")

    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/console/"
    assert page.status_code == 200
    assert '<script type="module" src="app.js">' in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # nothing from a CDN
    assert not re.search(r"""(from|import)\s*\(?["'](https?:)?//""", script.text)
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


def test_samples_are_served_and_unknown_names_answer_1007(server: RunningServer) -> None:
    hello = httpx.get(f"{server.base_url}/samples/hello.wav")
    missing = httpx.get(f"{server.base_url}/samples/nope.wav")

    assert hello.status_code == 200
    assert hello.headers["content-type"] == "audio/wav"
    assert hello.content == Samples().bytes_of("hello.wav")
    assert (missing.status_code, missing.json()["code"]) == (404, 1007)
    assert "no built-in sample" in missing.json()["message"]


def test_a_sample_renders_into_a_video(client: httpx.Client, server: RunningServer) -> None:
    info = data(httpx.get(f"{server.base_url}/__admin/info"))
    assert isinstance(info, dict)
    url = next(s["url"] for s in info["samples"] if s["name"] == "short.wav")

    created = data(client.post("/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": url}))
    assert isinstance(created, dict)
    video = wait_for(client, created["video_id"])

    assert video["status"] == "finished"
    assert video["duration"] == pytest.approx(1.0, abs=0.05)


def test_info_names_mode_samples_and_task_codes(server: RunningServer) -> None:
    info = data(httpx.get(f"{server.base_url}/__admin/info"))

    assert isinstance(info, dict)
    assert info["mode"] == "open"
    assert [s["name"] for s in info["samples"]] == ["hello.wav", "short.wav", "counting.wav"]
    assert {c["code"] for c in info["task_error_codes"]} >= {1500, 10001, 10003}


def test_tenants_are_listed_by_label_and_a_label_works_as_tenant(
    client: httpx.Client, server: RunningServer, token: str, generate: Generate
) -> None:
    video_id = generate("/half.wav")
    label = tenant_label(token)

    tenants = data(httpx.get(f"{server.base_url}/__admin/tenants"))
    tasks = data(httpx.get(f"{server.base_url}/__admin/tasks", params={"tenant": label}))
    me = data(httpx.post(f"{server.base_url}/__admin/tenants/label", json={"token": token}))

    assert isinstance(tenants, list)
    assert isinstance(tasks, list)
    assert token not in httpx.get(f"{server.base_url}/__admin/tenants").text
    assert any(t["tenant"] == label and t["tasks"] == 1 for t in tenants)
    assert [t["video_id"] for t in tasks] == [video_id]
    assert me == {"tenant": label}
    unknown = httpx.get(f"{server.base_url}/__admin/tasks", params={"tenant": "tok-0000000000"})
    assert unknown.json()["code"] == 1003


def test_requests_have_capped_bodies_filters_and_a_count(
    client: httpx.Client, server: RunningServer, token: str, generate: Generate
) -> None:
    video_id = generate("/half.wav")
    client.get("/v1/ping")
    client.get("/v1/ping")
    admin = f"{server.base_url}/__admin"
    mine = {"tenant": tenant_label(token)}

    created = data(httpx.get(f"{admin}/requests", params={**mine, "contains": video_id}))
    pings = data(httpx.get(f"{admin}/requests/count", params={**mine, "path": "/v1/ping"}))
    prefixed = data(httpx.get(f"{admin}/requests/count", params={**mine, "path": "/v1/a2v/*"}))
    posts = data(httpx.get(f"{admin}/requests/count", params={**mine, "method": "post", "code": 0}))

    assert isinstance(created, dict)
    assert created["meta"] == {"total": 1}
    (entry,) = created["requests"]
    assert entry["path"] == "/v1/a2v/video.generate"
    assert (
        '"model_id": "eva_a0008"' in entry["request"]["body"]
        or '"model_id":"eva_a0008"' in entry["request"]["body"]
    )
    assert video_id in entry["response"]["body"]
    assert entry["request"]["headers"]["authorization"] == f"Bearer <{tenant_label(token)}>"
    assert token not in str(entry)
    assert entry["response"]["headers"]["content-type"] == "application/json"
    assert pings == {"count": 2}
    assert prefixed == {"count": 1}
    assert posts == {"count": 1}


def test_a_big_body_is_capped_in_the_journal(client: httpx.Client, server: RunningServer, token: str) -> None:
    from mock_server.admin.journal import BODY_CAP

    client.post("/v1/a2v/video.generate", content=b"{" + b" " * (BODY_CAP * 2) + b"}")

    entries = data(
        httpx.get(f"{server.base_url}/__admin/requests", params={"tenant": tenant_label(token), "limit": 1})
    )
    assert isinstance(entries, dict)
    (entry,) = entries["requests"]
    assert entry["request"]["truncated"] is True
    assert len(entry["request"]["body"]) == BODY_CAP
    assert entry["request"]["size"] == BODY_CAP * 2 + 2


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "x"}, "'status'"),
        ({"since": "yesterday"}, "'since'"),
        ({"limit": "-1"}, "'limit'"),
        ({"tenant": "tok-ffffffffff"}, "labelled"),
    ],
)
def test_bad_filters_answer_1003(server: RunningServer, params: dict[str, str], message: str) -> None:
    response = httpx.get(f"{server.base_url}/__admin/requests", params=params)

    assert (response.status_code, response.json()["code"]) == (400, 1003)
    assert message in response.json()["message"]


@pytest.mark.parametrize("path", ["/__admin/tasks", "/__admin/requests", "/__admin/callbacks"])
def test_the_label_of_a_tenant_with_nothing_yet_lists_nothing(server: RunningServer, path: str) -> None:
    """What the console asks right after switching to a new token, or after resetting its tenant."""
    fresh = tenant_label("a-token-never-used")
    assert fresh is not None

    nothing = {"requests": [], "meta": {"total": 0}} if path == "/__admin/requests" else []
    assert data(httpx.get(f"{server.base_url}{path}", params={"tenant": fresh})) == nothing
    assert data(httpx.get(f"{server.base_url}{path}", params={"tenant": "a-token-never-used"})) == nothing


def test_the_journal_never_shows_a_password_or_a_login_token() -> None:
    """The console shows the journal: a login's credentials must not be read there, or guessed with
    `contains`; the user name stays searchable."""
    with run_server(prewarm=False, render_workers=1, users={"dev@example.com": "pw-secret-1"}) as server:
        login = {"username": "dev@example.com", "password": "pw-secret-1"}
        tokens = data(httpx.post(f"{server.base_url}/v1/auth/account.login", json=login))
        assert isinstance(tokens, dict)
        secrets = ["pw-secret-1", tokens["access_token"], tokens["refresh_token"]]

        shown = httpx.get(f"{server.base_url}/__admin/requests", params={"path": "/v1/auth/account.login"})

        entries = data(shown)
        assert isinstance(entries, dict)
        (entry,) = entries["requests"]
        assert entry["request"]["body"] == '{"username":"dev@example.com","password":"<redacted>"}'
        assert '"access_token":"<redacted>"' in entry["response"]["body"]
        assert '"expired_at":' in entry["response"]["body"]
        for secret in secrets:
            assert secret not in shown.text
            for path in ("/__admin/requests", "/__admin/requests/count"):
                found = data(httpx.get(f"{server.base_url}{path}", params={"contains": secret[:8]}))
                assert found in ({"requests": [], "meta": {"total": 0}}, {"count": 0}), (path, secret)
        known = data(
            httpx.get(f"{server.base_url}/__admin/requests/count", params={"contains": "dev@example"})
        )
        assert known == {"count": 1}


def test_the_secret_fields_are_the_specs_credentials() -> None:
    import yaml

    from a2v_spec import load_spec
    from mock_server.admin.docs import ADMIN_SPEC_PATH
    from mock_server.redact import SECRET_FIELDS

    schemas = load_spec().document["components"]["schemas"]
    strings = {
        name
        for schema in ("LoginRequest", "Tokens")
        for name, field in schemas[schema]["properties"].items()
        if field.get("type") == "string"
    }
    # ... and the token the admin API's `tenants/label` call is given (its own document says so).
    admin = yaml.safe_load(ADMIN_SPEC_PATH.read_text())
    label = admin["paths"]["/tenants/label"]["post"]["requestBody"]["content"]["application/json"]
    assert set(label["schema"]["properties"]) == {"token"}
    assert set(SECRET_FIELDS) == (strings - {"username"}) | {"token"}


def test_an_upload_is_served_back_under_a_signed_url_and_renders(
    client: httpx.Client, server: RunningServer
) -> None:
    audio = Samples().bytes_of("short.wav")
    upload = data(
        httpx.post(f"{server.base_url}/__admin/uploads", params={"name": "mine.wav"}, content=audio)
    )
    assert isinstance(upload, dict)

    fetched = httpx.get(upload["url"])
    unsigned = httpx.get(upload["url"].split("?")[0])
    created = data(
        client.post("/v1/a2v/video.generate", json={"model_id": "eva_a0008", "audio_url": upload["url"]})
    )
    assert isinstance(created, dict)

    assert (fetched.status_code, fetched.content, fetched.headers["content-type"]) == (
        200,
        audio,
        "audio/wav",
    )
    assert unsigned.status_code == 403
    assert wait_for(client, created["video_id"])["status"] == "finished"


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("x.exe", b"MZ", "must be a plain file name ending in"),
        ("../x.wav", b"RIFF", "must be a plain file name"),
        ("x.wav", b"", "the upload is empty"),
    ],
)
def test_bad_uploads_are_refused(server: RunningServer, name: str, body: bytes, message: str) -> None:
    response = httpx.post(f"{server.base_url}/__admin/uploads", params={"name": name}, content=body)

    assert response.json()["code"] in (1003, 1004)
    assert message in response.json()["message"]


def test_preflight_is_answered_with_the_spec_headers_exposed(server: RunningServer) -> None:
    origin = "http://localhost:5173"
    preflight = httpx.options(
        f"{server.base_url}/v1/a2v/video.generate",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, prefer",
        },
    )
    call = httpx.get(f"{server.base_url}/v1/ping", headers={"Origin": origin})

    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "prefer" in preflight.headers["access-control-allow-headers"].lower()
    assert call.headers["access-control-allow-origin"] == "*"
    exposed = call.headers["access-control-expose-headers"]
    assert "X-Ratelimit-Left" in exposed
    assert "Retry-After" in exposed


def test_keyed_mode_answers_no_origin_unless_configured() -> None:
    with run_server(api_keys=["k"], render_workers=1, prewarm=False) as closed:
        refused = httpx.options(
            f"{closed.base_url}/v1/ping",
            headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"},
        )
    assert "access-control-allow-origin" not in refused.headers
    with run_server(
        api_keys=["k"], cors_origins=["http://app.test"], render_workers=1, prewarm=False
    ) as configured:
        allowed = httpx.get(f"{configured.base_url}/v1/ping", headers={"Origin": "http://app.test"})
        other = httpx.get(f"{configured.base_url}/v1/ping", headers={"Origin": "http://evil.test"})
    assert allowed.headers["access-control-allow-origin"] == "http://app.test"
    assert "access-control-allow-origin" not in other.headers


def test_docs_list_the_samples_and_the_console(server: RunningServer) -> None:
    document = httpx.get(f"{server.base_url}/docs/openapi.json").json()

    description = document["info"]["description"]
    assert f"{server.base_url}/samples/hello.wav" in description
    assert f"{server.base_url}/console" in description
