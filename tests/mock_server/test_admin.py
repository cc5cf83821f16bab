"""The admin API: reset, journal, scenario (faults, rate limit, timings, next tasks), tasks, auth.

Each `mock` test runs on an in-process mock of its own and on the scaled-out mock (two replicas behind a
round-robin balancer, reset after each test): the scenario, resets, next tasks and forced statuses are
shared, so a change made through one replica holds on every replica (`replicas` calls each directly).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from mock_server.auth import tenant_id
from mock_server.config import Settings
from mock_server.http.faults import DroppedConnection
from mock_server.redact import tenant_label
from mock_server.runtime.app import create_app
from mock_server.testing import app_client, run_server

from .conftest import SCALED, TEST_SETTINGS, AudioHost, Scaled, is_scaled, wait_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(params=["embedded", SCALED])
def mock(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[httpx.Client]:
    """An in-process mock of its own, or the module's scaled-out mock through its balancer, reset
    first (these tests change the scenario)."""
    if request.param == "embedded":
        settings = Settings(data_dir=tmp_path, prewarm=False, **TEST_SETTINGS)
        with app_client(create_app(settings)) as client:
            yield client
        return
    scaled: Scaled = request.getfixturevalue("scaled_cluster")
    with httpx.Client(base_url=scaled.url, timeout=30) as client:
        assert client.post("/__admin/reset").status_code == 200  # as fresh as an embedded mock
        yield client


@pytest.fixture
def replicas(request: pytest.FixtureRequest, mock: httpx.Client) -> Iterator[list[httpx.Client]]:
    """Every server behind `mock`, each called directly: the mock itself when embedded."""
    if not is_scaled(request):
        yield [mock]
        return
    scaled: Scaled = request.getfixturevalue("scaled_cluster")
    clients = [httpx.Client(base_url=url, timeout=30) for url in scaled.replicas]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def generate(
    client: httpx.Client, host: AudioHost, token: str, path: str = "/half.wav", **headers: str
) -> str:
    body = {"model_id": "eva_a0008", "audio_url": host.url(path)}
    response = client.post("/v1/a2v/video.generate", json=body, headers={**bearer(token), **headers})
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["video_id"])


def put_scenario(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = client.put("/__admin/scenario", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def journal(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    """`GET /__admin/requests`'s entries (newest first), the answer checked for WireMock's shape."""
    response = client.get("/__admin/requests", params=params)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"requests", "meta"}
    assert data["meta"]["total"] >= len(data["requests"])
    return list(data["requests"])


def test_journal_records_and_filters(replicas: list[httpx.Client]) -> None:
    mock = replicas[0]  # the journal is kept per replica: scaled out, this test talks to one directly
    mock.get("/v1/a2v/character.list", headers=bearer("a"))
    mock.get("/v1/a2v/video.get", params={"video_id": "x"}, headers=bearer("b"))
    mock.get("/v1/ping")
    entries = journal(mock)
    assert [e["path"] for e in entries] == ["/v1/ping", "/v1/a2v/video.get", "/v1/a2v/character.list"]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    only_b = journal(mock, tenant="b")
    assert len(only_b) == 1
    assert only_b[0]["status"] == 400
    assert only_b[0]["code"] == 1003
    assert only_b[0]["query"] == "video_id=x"
    assert only_b[0]["duration_ms"] >= 0
    request, response = only_b[0]["request"], only_b[0]["response"]
    assert (request["method"], request["url"]) == ("GET", "/v1/a2v/video.get?video_id=x")
    assert abs(request["loggedDate"] - only_b[0]["time"] * 1000) <= 1
    assert response["status"] == 400
    assert '"code":1003' in response["body"].replace(" ", "")
    assert len(journal(mock, status=200, limit=1)) == 1
    assert journal(mock, method="POST") == []


def test_journal_counts_matches_before_the_limit_and_keeps_the_newest(replicas: list[httpx.Client]) -> None:
    """WireMock's `meta.total`: how many entries match the filters, however few `limit` lets through;
    `limit` keeps the newest N, listed newest first."""
    mock = replicas[0]
    for n in range(4):
        mock.get("/v1/a2v/video.get", params={"video_id": f"n{n}"}, headers=bearer("counted"))
    mock.get("/v1/ping", headers=bearer("counted"))
    answer = mock.get("/__admin/requests", params={"tenant": "counted", "path": "/v1/a2v/*", "limit": 2})
    assert answer.json()["code"] == 0
    data = answer.json()["data"]
    assert data["meta"] == {"total": 4}
    assert [e["query"] for e in data["requests"]] == ["video_id=n3", "video_id=n2"]
    none = mock.get("/__admin/requests", params={"tenant": "counted", "limit": 0}).json()["data"]
    assert none == {"requests": [], "meta": {"total": 5}}
    found = mock.get("/__admin/requests", params={"tenant": "counted", "contains": "n1"}).json()["data"]
    assert (found["meta"], [e["query"] for e in found["requests"]]) == ({"total": 1}, ["video_id=n1"])
    assert mock.get("/__admin/requests/count", params={"tenant": "counted"}).json()["data"] == {"count": 5}


def test_the_old_journal_endpoint_is_gone(mock: httpx.Client) -> None:
    """One journal endpoint: `/__admin/journal` answers like any unknown path, in the envelope."""
    response = mock.get("/__admin/journal")
    assert response.status_code == 404
    assert response.json()["code"] != 0
    assert response.json()["data"] is None


def test_journal_is_bounded(tmp_path: Path) -> None:
    """Embedded only: it needs a server of its own with a small journal."""
    settings = Settings(data_dir=tmp_path, prewarm=False, journal_size=3, **TEST_SETTINGS)
    with app_client(create_app(settings)) as client:
        for _ in range(5):
            client.get("/v1/ping")
        assert len(journal(client)) == 3


def test_reset_one_tenant_or_everything(
    mock: httpx.Client, replicas: list[httpx.Client], audio_host: AudioHost
) -> None:
    kept = generate(mock, audio_host, "keep")
    gone = generate(mock, audio_host, "drop")
    assert mock.post("/__admin/reset", json={"tenant": "drop"}).status_code == 200
    assert (
        mock.get("/v1/a2v/video.get", params={"video_id": gone}, headers=bearer("drop")).json()["code"]
        == 20002
    )
    assert (
        mock.get("/v1/a2v/video.get", params={"video_id": kept}, headers=bearer("keep")).json()["code"] == 0
    )
    put_scenario(mock, error_rate=0.5)
    assert mock.post("/__admin/reset").status_code == 200
    assert (
        mock.get("/v1/a2v/video.get", params={"video_id": kept}, headers=bearer("keep")).json()["code"]
        == 20002
    )
    assert mock.get("/__admin/scenario").json()["data"]["error_rate"] == 0.0
    # Journals are per replica, and a reset clears every one of them: together they hold the one call.
    journals = [e["path"] for r in replicas for e in journal(r)]
    assert journals == ["/v1/a2v/video.get"]


def test_a_reset_forgets_login_tokens_on_every_replica(
    mock: httpx.Client, replicas: list[httpx.Client]
) -> None:
    """A reset deletes the tenant's login tokens; a replica that had the token cached forgets it too
    (open mode then takes it as a plain token, its own tenant)."""
    login = mock.post("/v1/auth/account.login", json={"username": "reset-me", "password": "pw"})
    token = login.json()["data"]["access_token"]

    def tenants_seen() -> list[str]:
        seen = []
        for replica in replicas:
            assert replica.get("/v1/a2v/video.list", headers=bearer(token)).status_code == 200
            seen.append(journal(replica, limit=1)[0]["tenant"])
        return seen

    assert tenants_seen() == ["user:reset-me"] * len(replicas)  # each replica now holds it in its cache
    assert mock.post("/__admin/reset", json={"tenant": "user:reset-me"}).status_code == 200
    assert tenants_seen() == [tenant_id(token)] * len(replicas)


def test_scenario_merges_and_validates(mock: httpx.Client, replicas: list[httpx.Client]) -> None:
    first = put_scenario(mock, timings={"pending_seconds": 2})
    assert first["timings"] == {"pending_seconds": 2.0, "in_progress_seconds": 0.0}
    second = put_scenario(mock, timings={"in_progress_seconds": 1}, seed=7)
    assert second["timings"] == {"pending_seconds": 2.0, "in_progress_seconds": 1.0}
    assert second["seed"] == 7
    bad_values = (
        {"error_rate": 2},
        {"latency_ms": {"min": 5, "max": 1}},
        {"nope": 1},
        {"rate_limit": 3},
        {"url_ttl_seconds": "soon"},
    )
    for bad in bad_values:
        response = mock.put("/__admin/scenario", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["code"] == 1003
    for replica in replicas:  # scaled out: the PUTs went to either replica, every replica holds both
        assert replica.get("/__admin/scenario").json()["data"] == second


def test_url_ttl_scenario_signs_expired_urls_until_reset(mock: httpx.Client) -> None:
    def preview_status() -> tuple[int, int | None]:
        characters = mock.get("/v1/a2v/character.list", headers=bearer("ttl")).json()["data"]
        response = mock.get(characters[0]["preview_url"])
        return response.status_code, (response.json()["code"] if response.status_code != 200 else None)

    assert preview_status() == (200, None)
    assert put_scenario(mock, url_ttl_seconds=-60)["url_ttl_seconds"] == -60
    assert preview_status() == (403, 1012)
    put_scenario(mock, url_ttl_seconds=None)
    assert preview_status() == (200, None)
    put_scenario(mock, url_ttl_seconds=-60)
    assert mock.post("/__admin/reset").status_code == 200
    assert preview_status() == (200, None)


def test_latency(mock: httpx.Client, replicas: list[httpx.Client]) -> None:
    put_scenario(mock, latency_ms={"min": 150, "max": 150})
    for replica in replicas:
        started = time.monotonic()
        replica.get("/v1/ping")
        assert time.monotonic() - started >= 0.15


def test_error_rate_and_drop_rate(mock: httpx.Client, replicas: list[httpx.Client]) -> None:
    put_scenario(mock, error_rate=1.0)
    for replica in replicas:
        response = replica.get("/v1/a2v/character.list", headers=bearer("e"))
        assert response.status_code == 500
        assert response.json()["code"] == 1500
    put_scenario(mock, error_rate=0.0, drop_rate=1.0)
    for replica in replicas:  # in-process the drop is raised; over a socket the connection closes
        with pytest.raises((DroppedConnection, httpx.TransportError)):
            replica.get("/v1/ping")
    put_scenario(mock, drop_rate=0.0)
    for replica in replicas:
        assert replica.get("/v1/ping").status_code == 200


def test_drop_rate_closes_a_real_connection() -> None:
    """Embedded over a socket (the scaled variant of the test above drops the replicas' connections)."""
    with run_server(**TEST_SETTINGS, prewarm=False) as server:
        httpx.put(f"{server.base_url}/__admin/scenario", json={"drop_rate": 1.0})
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{server.base_url}/v1/ping")
        httpx.put(f"{server.base_url}/__admin/scenario", json={"drop_rate": 0.0})
        assert httpx.get(f"{server.base_url}/v1/ping").status_code == 200


def test_rate_limit_at_run_time(mock: httpx.Client) -> None:
    put_scenario(mock, rate_limit={"requests": 1, "per_seconds": 60})
    assert mock.get("/v1/a2v/character.list", headers=bearer("r")).status_code == 200
    over = mock.get("/v1/a2v/character.list", headers=bearer("r"))
    assert over.status_code == 429
    assert over.json()["code"] == 1009
    put_scenario(mock, rate_limit=None)
    assert mock.get("/v1/a2v/character.list", headers=bearer("r")).status_code == 200


def test_timings_and_next_tasks(mock: httpx.Client, audio_host: AudioHost) -> None:
    put_scenario(
        mock,
        timings={"pending_seconds": 1.5},
        next_tasks=[{"tenant": "n", "outcome": "error", "error_code": 10001}],
    )
    other = generate(mock, audio_host, "someone")
    assert (
        mock.get("/v1/a2v/video.get", params={"video_id": other}, headers=bearer("someone")).json()["data"][
            "status"
        ]
        == "pending"
    )
    doomed = generate(mock, audio_host, "n")
    video = wait_for(_as(mock, "n"), doomed)
    assert video["error"]["code"] == 10001
    assert wait_for(_as(mock, "someone"), other)["status"] == "finished"
    assert mock.get("/__admin/scenario").json()["data"]["next_tasks"] == []


def _as(client: httpx.Client, token: str) -> httpx.Client:
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _forced(mock: httpx.Client, video_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The task as `POST /__admin/tasks/{video_id}` left it (the answer's text when it refused)."""
    answer = mock.post(f"/__admin/tasks/{video_id}", json=body)
    if answer.status_code != 200:
        rows = mock.get("/__admin/tasks").json()["data"]
        pytest.fail(f"{answer.text}; the task: {[r for r in rows if r['video_id'] == video_id]}")
    data: dict[str, Any] = answer.json()["data"]
    return data


def test_tasks_list_and_forced_statuses(mock: httpx.Client, audio_host: AudioHost) -> None:
    put_scenario(mock, timings={"pending_seconds": 30})
    first = generate(mock, audio_host, "f")
    second = generate(mock, audio_host, "f")
    generate(mock, audio_host, "g")
    tasks = mock.get("/__admin/tasks", params={"tenant": "f"}).json()["data"]
    assert {t["video_id"] for t in tasks} == {first, second}
    assert {t["tenant"] for t in tasks} == {tenant_id("f")}  # derived: the admin API shows no token
    assert tenant_label(tenant_id("f")) == tenant_id("f")  # a derived id is its own label
    moved = _forced(mock, first, {"status": "in_progressing", "progress": 40})
    assert (moved["status"], moved["progress"]) == ("in_progressing", 40)
    failed = _forced(mock, first, {"status": "error", "error_code": 10003})
    assert failed["error"]["code"] == 10003
    backwards = mock.post(f"/__admin/tasks/{first}", json={"status": "finished"})
    assert backwards.status_code == 400
    assert "forward" in backwards.json()["message"]
    done = _forced(mock, second, {"status": "finished", "duration": 1.5})
    assert done["status"] == "finished"
    assert abs(done["duration"] - 1.5) <= 0.04  # within a frame
    assert (
        mock.get(done["video_url"]).headers["content-type"] == "video/mp4"
    )  # real files, rendered from silence
    assert (
        mock.post(f"/__admin/tasks/{second}", json={"status": "error", "error_code": 1003}).status_code == 400
    )
    assert mock.post(f"/__admin/tasks/{'0' * 32}", json={"status": "finished"}).json()["code"] == 20002
    video = mock.get("/v1/a2v/video.get", params={"video_id": first}, headers=bearer("f")).json()["data"]
    assert video["status"] == "error"
    assert video["progress"] == 40


def test_a_task_forced_to_end_while_it_waits_frees_its_worker(
    mock: httpx.Client, audio_host: AudioHost
) -> None:
    """Scaled out, a worker holds one task at a time; forced to end (or deleted), a waiting task lets
    its worker go at once, and a task sent next runs without waiting out the others' pending time."""
    put_scenario(mock, timings={"pending_seconds": 0, "in_progress_seconds": 120})
    waiting = [generate(mock, audio_host, "w") for _ in range(2)]
    for video_id in waiting:  # in progress: a worker holds it (one each)
        wait_for(_as(mock, "w"), video_id, ("in_progressing",))
    for video_id in waiting:
        forced = mock.post(f"/__admin/tasks/{video_id}", json={"status": "error", "error_code": 10001})
        assert forced.json()["data"]["status"] == "error"
    put_scenario(mock, timings={"in_progress_seconds": 0})
    assert wait_for(_as(mock, "w"), generate(mock, audio_host, "w"), timeout=60)["status"] == "finished"


def test_admin_key(tmp_path: Path) -> None:
    """Embedded only: it needs a server of its own with an admin key."""
    settings = Settings(data_dir=tmp_path, prewarm=False, admin_key="root", **TEST_SETTINGS)
    with app_client(create_app(settings)) as client:
        denied = client.get("/__admin/requests")
        assert denied.status_code == 401
        assert denied.json()["code"] == 1001
        assert client.get("/__admin/requests", headers=bearer("nope")).status_code == 401
        assert client.get("/__admin/requests", headers=bearer("root")).status_code == 200
