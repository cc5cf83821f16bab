"""mock_server/http/exchange.py and the request path (`app.Pipeline`): each exchange recorded once, the same
way for every path, and what a page sees (CORS) added to the head only.

In-process (the app's lifespan on a loop thread), so each case is one request and one journal read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mock_server.config import Settings
from mock_server.http.faults import DroppedConnection
from mock_server.runtime.app import create_app
from mock_server.testing import app_client

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    with app_client(create_app(Settings(data_dir=tmp_path, prewarm=False))) as running:
        yield running


def last(client: httpx.Client) -> dict:
    entries = client.get("/__admin/requests", params={"limit": 1}).json()["data"]["requests"]
    return dict(entries[0])


def test_with_cors_every_answer_varies_on_origin_and_a_page_gets_the_exposed_headers(
    client: httpx.Client,
) -> None:
    plain = client.get("/v1/a2v/character.list", headers={"Authorization": "Bearer a"})
    assert plain.headers["vary"] == "Origin"
    assert "access-control-allow-origin" not in plain.headers
    page = client.get(
        "/v1/a2v/character.list", headers={"Authorization": "Bearer a", "Origin": "http://page.example"}
    )
    assert page.headers["access-control-allow-origin"] == "*"
    assert "X-Ratelimit-Total" in page.headers["access-control-expose-headers"]
    recorded = last(client)["response"]["headers"]
    assert "x-ratelimit-total" in recorded  # the journal keeps the answer's own head ...
    assert not any(name.startswith("access-control-") or name == "vary" for name in recorded)  # not CORS's


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [("/v1/a2v/character.list", 200, 0), ("/v1/nowhere", 404, 1007), ("/files/videos/x.mp4", 403, 1012)],
)
def test_an_exchange_is_recorded_once_with_its_status_code_and_rate_headers(
    client: httpx.Client, path: str, status: int, code: int
) -> None:
    before = client.get("/__admin/requests").json()["data"]["meta"]["total"]
    answer = client.get(path, headers={"Authorization": "Bearer a"})
    entries = client.get("/__admin/requests").json()["data"]["requests"]
    assert len(entries) == before + 1
    entry = entries[0]  # newest first
    assert (entry["path"], entry["status"], entry["code"]) == (path, status, code)
    assert entry["response"]["headers"]["x-ratelimit-left"] == answer.headers["x-ratelimit-left"]
    assert entry["request"]["headers"]["authorization"].startswith("Bearer <tok-")


def test_admin_and_docs_requests_leave_nothing_behind(client: httpx.Client) -> None:
    before = client.get("/__admin/requests").json()["data"]["meta"]["total"]
    assert "x-ratelimit-total" not in client.get("/openapi.yaml").headers
    client.get("/__admin/scenario")
    assert client.get("/__admin/requests").json()["data"]["meta"]["total"] == before


def test_a_dropped_connection_is_recorded_with_status_zero(tmp_path: Path) -> None:
    with app_client(create_app(Settings(data_dir=tmp_path, prewarm=False))) as client:
        client.put("/__admin/scenario", json={"drop_rate": 1.0})
        with pytest.raises(DroppedConnection):
            client.get("/v1/ping")
        client.put("/__admin/scenario", json={"drop_rate": 0.0})
        entry = last(client)
        assert (entry["path"], entry["status"], entry["code"]) == ("/v1/ping", 0, None)


def test_exchanges_waiting_in_the_journal_are_not_tracked_by_the_garbage_collector(tmp_path: Path) -> None:
    """The ring keeps up to `journal_size` exchanges for a thousand requests each; as plain tuples of
    bytes, strings and numbers the collector stops tracking them within a few passes (a tuple once the
    tuples in it are untracked: in a server, by the second generation's pass), so they never fill the
    oldest generation, whose full collections stalled every request under load."""
    import gc

    app = create_app(Settings(data_dir=tmp_path, prewarm=False))
    with app_client(app) as running:
        for path in ("/v1/a2v/character.list", "/v1/a2v/video.get?video_id=nope", "/v1/nowhere"):
            running.get(path, headers={"Authorization": "Bearer a"})
        running.post("/v1/a2v/video.generate", headers={"Authorization": "Bearer a"}, json={"x": 1})
        waiting = list(app.services.journal._entries)
        assert len(waiting) == 4
        for _ in range(3):
            gc.collect()
        assert not [entry for entry in waiting if gc.is_tracked(entry)]
        entries = running.get("/__admin/requests").json()["data"]["requests"]
    assert [e["path"] for e in entries][-4:] == sorted(
        ["/v1/a2v/character.list", "/v1/a2v/video.get", "/v1/nowhere", "/v1/a2v/video.generate"],
        key=[e["path"] for e in entries][-4:].index,
    )
