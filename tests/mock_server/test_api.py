"""Every operation and request error path, in-process (httpx.Client) and over a real socket."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import Status, load_spec
from mock_server.config import Settings
from mock_server.errors import ServiceUnavailable
from mock_server.ratelimit import UNLIMITED, RateLimiter, Window
from mock_server.runtime.app import create_app
from mock_server.scenario_values import RateLimit, Timings
from mock_server.testing import RunningServer, app_client

from .conftest import SCALED, TEST_SETTINGS, AudioHost, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator

SPEC = load_spec()
UNKNOWN_ID = "0" * 32


@pytest.fixture(scope="module")
def inprocess(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("inprocess"), prewarm=False, **TEST_SETTINGS)
    with app_client(create_app(settings)) as client:
        yield client


@pytest.fixture(params=["inprocess", "socket", SCALED])
def api(request: pytest.FixtureRequest, token: str) -> Iterator[httpx.Client]:
    """A client with a fresh token: in-process, over a socket, and to the scaled-out mock (replicas and
    workers on PostgreSQL, RabbitMQ and S3, each request to the next replica)."""
    headers = {"Authorization": f"Bearer {token}"}
    if request.param == "inprocess":
        client: httpx.Client = request.getfixturevalue("inprocess")
        client.headers.update(headers)
        yield client
        client.headers.pop("Authorization", None)
    elif request.param == "socket":
        server: RunningServer = request.getfixturevalue("server")
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=10) as c:
            yield c
    else:
        with httpx.Client(
            base_url=request.getfixturevalue("scaled_server"), headers=headers, timeout=30
        ) as c:
            yield c


def assert_error(response: httpx.Response, code: int, *words: str) -> None:
    body = response.json()
    assert body["code"] == code, body
    assert body["data"] is None
    assert response.status_code == SPEC.errors[code].http_status
    for word in words:
        assert word in body["message"], body["message"]
    for header in ("X-Ratelimit-Total", "X-Ratelimit-Left", "X-Ratelimit-Reset"):
        assert response.headers[header].isdigit()


def test_ping_needs_no_token_and_carries_rate_limit_headers(api: httpx.Client) -> None:
    response = api.get("/v1/ping", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["data"]["pong"] is True
    assert int(response.headers["X-Ratelimit-Total"]) > 0


def test_character_list(api: httpx.Client) -> None:
    data = api.get("/v1/a2v/character.list").json()["data"]
    assert "eva_a0008" in {c["model_id"] for c in data}
    preview = api.get(data[0]["preview_url"])
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
    assert preview.content.startswith(b"\x89PNG")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Token abc", "Bearer a b"])
def test_missing_or_malformed_authorization_is_1001(api: httpx.Client, header: str | None) -> None:
    if header is None:
        api.headers.pop("Authorization", None)
    else:
        api.headers["Authorization"] = header
    response = api.get("/v1/a2v/character.list")
    assert_error(response, 1001)


def _chunked(data: bytes) -> list[bytes]:
    """A body httpx sends chunked, without Content-Length: the server only learns its size by reading."""
    return [data[start : start + 4096] for start in range(0, len(data), 4096)]


GEN, GET, LIST = "/v1/a2v/video.generate", "/v1/a2v/video.get", "/v1/a2v/video.list"
JSON = {"Content-Type": "application/json"}
OK_BODY = {"model_id": "eva_a0008", "audio_url": "http://x/a"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code", "words"),
    [
        ("GET", GET, {}, 1003, ["video_id"]),
        ("GET", GET, {"params": {"video_id": "XYZ"}}, 1003, ["video_id"]),
        ("GET", GET, {"params": {"video_id": UNKNOWN_ID}}, 20002, [UNKNOWN_ID]),
        ("GET", LIST, {"params": {"page": "0"}}, 1003, ["page"]),
        ("GET", LIST, {"params": {"page": "abc"}}, 1003, ["page"]),
        ("GET", LIST, {"params": {"page_size": "101"}}, 1003, ["page_size"]),
        ("GET", LIST, {"params": {"status": "done"}}, 1003, ["status"]),
        ("POST", GEN, {"json": {"model_id": "eva_a0008"}}, 1003, ["'audio_url'", "missing"]),
        ("POST", GEN, {"json": {**OK_BODY, "audio_url": "ftp://x/a"}}, 1003, ["audio_url"]),
        ("POST", GEN, {"json": {**OK_BODY, "callback_url": "nope"}}, 1003, ["callback_url"]),
        ("POST", GEN, {"json": {**OK_BODY, "model_id": 5}}, 1003, ["model_id"]),
        ("POST", GEN, {"json": {**OK_BODY, "model_id": "eva_x9999"}}, 20001, ["eva_x9999"]),
        ("POST", GEN, {"content": b"[1]", "headers": JSON}, 1004, ["object"]),
        ("POST", GEN, {"content": b"{", "headers": JSON}, 1004, ["JSON"]),
        ("POST", GEN, {"content": b"[" * 5000 + b"]" * 5000, "headers": JSON}, 1004, ["deeply"]),
        ("POST", GEN, {"content": b'{"a": "' + b"x" * 70_000 + b'"}', "headers": JSON}, 1013, ["65536"]),
        ("POST", GEN, {"content": _chunked(b"x" * 70_000), "headers": JSON}, 1013, ["65536"]),
        ("POST", GEN, {"content": b"a=b", "headers": {"Content-Type": "text/plain"}}, 1005, ["text/plain"]),
        (
            "POST",
            GEN,
            {"json": OK_BODY, "headers": {"Idempotency-Key": "has space"}},
            1003,
            ["Idempotency-Key"],
        ),
        ("POST", "/v1/auth/account.login", {"json": {"username": "a"}}, 1003, ["password"]),
        ("GET", "/v1/nope", {}, 1007, ["/v1/nope"]),
        ("GET", "/nowhere", {}, 1007, []),
        ("GET", GEN, {}, 1006, ["POST"]),
        ("DELETE", GET, {}, 1006, ["GET"]),
    ],
)
def test_request_errors(
    api: httpx.Client, method: str, path: str, kwargs: dict[str, Any], code: int, words: list[str]
) -> None:
    assert_error(api.request(method, path, **kwargs), code, *words)


def test_login_issues_a_token_of_the_users_tenant(api: httpx.Client, audio_host: AudioHost) -> None:
    tokens = api.post(
        "/v1/auth/account.login", json={"username": "dev@example.com", "password": "pw"}
    ).json()["data"]
    assert tokens["expired_at"] > time.time()
    user = {"Authorization": f"Bearer {tokens['access_token']}"}
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    video_id = api.post("/v1/a2v/video.generate", json=body, headers=user, params={}).json()["data"][
        "video_id"
    ]
    again = api.post("/v1/auth/account.login", json={"username": "dev@example.com", "password": "x"}).json()[
        "data"
    ]
    same_user = {"Authorization": f"Bearer {again['access_token']}"}
    assert api.get("/v1/a2v/video.get", params={"video_id": video_id}, headers=same_user).status_code == 200
    assert_error(api.get("/v1/a2v/video.get", params={"video_id": video_id}), 20002)


def test_expired_login_token_is_1002(server: RunningServer) -> None:
    asyncio.run(server.mock.store.add_token("expired-token", "user:old", int(time.time()) - 1))
    response = httpx.get(
        f"{server.base_url}/v1/a2v/character.list", headers={"Authorization": "Bearer expired-token"}
    )
    assert_error(response, 1002, "expired")


def test_tenants_never_see_each_others_videos(api: httpx.Client, audio_host: AudioHost) -> None:
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    video_id = api.post("/v1/a2v/video.generate", json=body).json()["data"]["video_id"]
    other = {"Authorization": "Bearer someone-else-entirely"}
    assert_error(api.get("/v1/a2v/video.get", params={"video_id": video_id}, headers=other), 20002)
    listed = api.get("/v1/a2v/video.list", headers=other).json()["data"]
    assert video_id not in {v["video_id"] for v in listed}
    assert api.get("/v1/a2v/video.list").json()["data"][0]["video_id"] == video_id


def test_generate_is_readable_at_once_and_listed_newest_first(
    api: httpx.Client, audio_host: AudioHost
) -> None:
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    created = [api.post("/v1/a2v/video.generate", json=body).json()["data"] for _ in range(3)]
    assert [c["status"] for c in created] == ["pending"] * 3  # as the guide shows it
    ids = [c["video_id"] for c in created]
    first = api.get("/v1/a2v/video.get", params={"video_id": ids[-1]}).json()["data"]
    assert first["status"] in ("pending", "in_progressing", "finished")
    # The documented plain array, paged by the query; the total (of every page) in a header.
    page = api.get("/v1/a2v/video.list", params={"page_size": 2})
    assert page.headers["X-Total-Count"] == "3"
    assert [v["video_id"] for v in page.json()["data"]] == ids[::-1][:2]
    rest = api.get("/v1/a2v/video.list", params={"page_size": 2, "page": 2})
    assert [v["video_id"] for v in rest.json()["data"]] == [ids[0]]
    assert rest.headers["X-Total-Count"] == "3"
    past = api.get("/v1/a2v/video.list", params={"page": 9})
    assert past.json()["data"] == []
    assert past.headers["X-Total-Count"] == "3"
    failed = api.get("/v1/a2v/video.list", params={"status": "error"})
    assert (failed.json()["data"], failed.headers["X-Total-Count"]) == ([], "0")


def test_idempotency_key(api: httpx.Client, audio_host: AudioHost) -> None:
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    key = {"Idempotency-Key": "retry-1"}
    first = api.post("/v1/a2v/video.generate", json=body, headers=key).json()["data"]
    again = api.post("/v1/a2v/video.generate", json=body, headers=key).json()["data"]
    assert again["video_id"] == first["video_id"]
    now = api.get("/v1/a2v/video.get", params={"video_id": first["video_id"]}).json()["data"]["status"]
    assert Status(again["status"]).rank <= Status(now).rank  # the task's status when it answered
    changed = api.post(
        "/v1/a2v/video.generate", json={**body, "audio_url": audio_host.url("/one.wav")}, headers=key
    )
    assert_error(changed, 1008, "retry-1")
    assert api.get("/v1/a2v/video.list").headers["X-Total-Count"] == "1"


def test_closed_mode_accepts_only_keys_and_configured_users(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, prewarm=False, api_keys=["k1"], users={"alice": "pw"}, **TEST_SETTINGS
    )
    with app_client(create_app(settings)) as client:
        assert_error(client.get("/v1/a2v/character.list", headers={"Authorization": "Bearer nope"}), 1001)
        assert client.get("/v1/a2v/character.list", headers={"Authorization": "Bearer k1"}).status_code == 200
        assert_error(
            client.post("/v1/auth/account.login", json={"username": "alice", "password": "no"}), 1011
        )
        assert_error(client.post("/v1/auth/account.login", json={"username": "bob", "password": "pw"}), 1011)
        token = client.post("/v1/auth/account.login", json={"username": "alice", "password": "pw"}).json()[
            "data"
        ]
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get("/v1/a2v/video.list", headers=headers).status_code == 200


def test_queue_full_answers_1010_with_retry_after(tmp_path: Any, audio_host: AudioHost) -> None:
    settings = Settings(
        data_dir=tmp_path, prewarm=False, queue_capacity=2, queue_retry_after=7, **TEST_SETTINGS
    )
    settings.timings = Timings(pending_seconds=30.0)
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    with app_client(create_app(settings), headers={"Authorization": "Bearer q"}) as client:
        for _ in range(2):
            assert client.post("/v1/a2v/video.generate", json=body).status_code == 200
        full = client.post("/v1/a2v/video.generate", json=body)
        assert_error(full, 1010, "queue")
        assert full.headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("prefer", "status", "code"),
    [
        ("status=503", 503, 1010),
        ("code=1009", 429, 1009),
        ("status=500", 500, 1500),
        ("code=20002", 404, 20002),
        ("status=503, code=1500", 503, 1500),
        ("foo=bar; code=1003", 400, 1003),
    ],
)
def test_prefer_forces_the_answer(api: httpx.Client, prefer: str, status: int, code: int) -> None:
    response = api.get("/v1/a2v/character.list", headers={"Prefer": prefer})
    assert response.status_code == status
    assert response.json() == {"code": code, "message": response.json()["message"], "data": None}
    if status in (429, 503):
        assert response.headers["Retry-After"].isdigit()


def test_prefer_rejects_nonsense(api: httpx.Client) -> None:
    assert_error(api.get("/v1/a2v/character.list", headers={"Prefer": "code=42"}), 1003, "Prefer")
    assert_error(api.get("/v1/a2v/character.list", headers={"Prefer": "duration=soon"}), 1003, "Prefer")


def test_prefer_chooses_the_task_fate(api: httpx.Client, audio_host: AudioHost) -> None:
    body = {"model_id": "eva_a0008", "audio_url": audio_host.url("/half.wav")}
    failed = api.post(
        "/v1/a2v/video.generate", json=body, headers={"Prefer": "outcome=error; error_code=10003"}
    )
    video = wait_for(api, failed.json()["data"]["video_id"])
    assert video["status"] == "error"
    assert video["error"]["code"] == 10003
    slow = api.post("/v1/a2v/video.generate", json=body, headers={"Prefer": "duration=3"}).json()["data"][
        "video_id"
    ]
    assert api.get("/v1/a2v/video.get", params={"video_id": slow}).json()["data"]["status"] == "pending"
    wait_for(api, slow, ("in_progressing",), timeout=10)
    started = time.monotonic()
    assert wait_for(api, slow)["status"] == "finished"
    assert time.monotonic() - started > 1.0


def test_rate_limit(tmp_path: Any) -> None:
    settings = Settings(
        data_dir=tmp_path, prewarm=False, rate_limit=RateLimit(requests=3, per_seconds=60), **TEST_SETTINGS
    )
    with app_client(create_app(settings), headers={"Authorization": "Bearer r"}) as client:
        lefts = [int(client.get("/v1/a2v/character.list").headers["X-Ratelimit-Left"]) for _ in range(3)]
        assert lefts == [2, 1, 0]
        assert client.get("/v1/ping").status_code == 200  # costs nothing, still reports
        over = client.get("/v1/a2v/character.list")
        assert_error(over, 1009)
        assert int(over.headers["Retry-After"]) >= 1
        other = client.get("/v1/a2v/character.list", headers={"Authorization": "Bearer other"})
        assert other.status_code == 200
        assert other.headers["X-Ratelimit-Total"] == "3"


class UnreachableWindows(RateLimiter):
    """Windows kept somewhere that is away, as a shared limiter's database can be."""

    async def ahit(self, key: str, cost: int = 1) -> Window:
        raise ServiceUnavailable("the rate windows are unreachable")


def test_unreachable_rate_windows_answer_503_with_retry_and_limit_headers(tmp_path: Any) -> None:
    app = create_app(Settings(data_dir=tmp_path, prewarm=False, **TEST_SETTINGS))
    app.services.limiter = UnreachableWindows()
    with app_client(app, headers={"Authorization": "Bearer r"}) as client:
        response = client.get("/v1/a2v/character.list")
    assert_error(response, 1014, "the rate windows are unreachable")  # test mode checked it too
    assert response.headers["Retry-After"] == "1"
    limits = [response.headers[f"X-Ratelimit-{name}"] for name in ("Total", "Left", "Reset")]
    assert limits == [str(UNLIMITED), "0", "1"]  # wait as Retry-After says
