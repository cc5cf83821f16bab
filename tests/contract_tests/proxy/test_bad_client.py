"""A deliberately bad client, breaking each client rule exactly once through the proxy in front of the mock:
each break is reported once, on the client side, under its A2V-CLIENT-* id, and nothing else is."""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_testkit import speech_wav
from contract_tests.proxy import CLIENT_REQUIREMENTS
from contract_tests.requirement_ids import Req
from contract_tests.servers import kit_server
from mock_server.testing import run_server

if TYPE_CHECKING:
    from tests.contract_tests.proxy.conftest import RunningProxy, StartProxy

GENERATE = "/v1/a2v/video.generate"
GET = "/v1/a2v/video.get"


class BadClient:
    """Each method breaks one rule once, with its own token (so one rule's state cannot mask another's)."""

    def __init__(self, proxy: RunningProxy, mock_url: str, audio_url: str) -> None:
        self.proxy = proxy
        self.mock_url = mock_url
        self.body = {"model_id": "eva_a0008", "audio_url": audio_url}

    def http(self, token: str, **options: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.proxy.base_url, headers={"Authorization": f"Bearer {token}"}, **options
        )

    def admin(self, **scenario: Any) -> None:
        """Change the mock's scenario directly (not through the proxy: it is not client traffic)."""
        httpx.put(f"{self.mock_url}/__admin/scenario", json=scenario).raise_for_status()

    def generate(self, http: httpx.Client, duration: float) -> httpx.Response:
        """A generate whose task fails after `duration` seconds (so it stays open while polled)."""
        prefer = f"outcome=error, error_code=10001, duration={duration}"
        return http.post(GENERATE, json=self.body, headers={"Prefer": prefer})

    def video_id(self, http: httpx.Client, duration: float) -> str:
        return str(self.generate(http, duration).json()["data"]["video_id"])

    def request_schema(self) -> None:
        with self.http("bad-schema") as http:
            assert http.get("/v1/a2v/video.list", params={"page_size": 0}).status_code == 400

    def token_in_query(self) -> None:
        with self.http("bad-query-token") as http:
            assert (
                http.get("/v1/a2v/character.list", params={"access_token": "bad-query-token"}).status_code
                == 200
            )

    def poll_interval(self) -> None:
        with self.http("bad-poll-fast") as http:
            video_id = self.video_id(http, duration=30)
            for _ in range(2):
                http.get(GET, params={"video_id": video_id})
                time.sleep(0.3)

    def poll_backoff(self) -> None:
        with self.http("bad-poll-steady") as http:
            video_id = self.video_id(http, duration=30)
            for _ in range(5):
                http.get(GET, params={"video_id": video_id})
                time.sleep(1.1)

    def retry_after(self) -> None:
        with self.http("bad-retry-after") as http:
            forced = http.get("/v1/a2v/character.list", headers={"Prefer": "status=429, code=1009"})
            assert forced.status_code == 429
            assert forced.headers["Retry-After"] == "1"
            http.get("/v1/a2v/character.list")  # at once, not a second later

    def idempotent_retry(self) -> None:
        self.admin(latency_ms={"min": 1500, "max": 1500})
        try:
            with self.http("bad-retry-no-key", timeout=0.5) as http, pytest.raises(httpx.TimeoutException):
                self.generate(http, duration=30)
        finally:
            self.admin(latency_ms={"min": 0, "max": 0})
        with self.http("bad-retry-no-key") as http:
            self.generate(http, duration=30)

    def expired_url(self) -> None:
        with self.http("bad-expired-url") as http:
            video_id = http.post(GENERATE, json=self.body).json()["data"]["video_id"]
            wait, video = 1.0, {}
            for _ in range(30):  # a well-behaved poll loop: once a second, backing off x1.5
                time.sleep(wait)
                video = http.get(GET, params={"video_id": video_id}).json()["data"]
                if video["status"] in ("finished", "error"):
                    break
                wait = min(wait * 1.5, 10)
            assert video["status"] == "finished", video
            self.admin(url_ttl_seconds=-30)  # the next read signs URLs that expired 30 s ago
            try:
                time.sleep(wait * 1.5)
                video = http.get(GET, params={"video_id": video_id}).json()["data"]
            finally:
                self.admin(url_ttl_seconds=None)
            assert http.get(video["video_url"]).status_code == 403

    def ratelimit_left(self) -> None:
        self.admin(rate_limit={"requests": 2, "per_seconds": 60})
        try:
            with self.http("bad-ratelimit-left") as http:
                http.get("/v1/a2v/character.list")
                last = http.get("/v1/a2v/character.list")
                assert last.headers["X-Ratelimit-Left"] == "0"
                assert http.get("/v1/a2v/character.list").status_code == 429
        finally:
            self.admin(rate_limit=None)


RULES = {
    Req.CLIENT_REQUEST_SCHEMA: BadClient.request_schema,
    Req.CLIENT_TOKEN_IN_QUERY: BadClient.token_in_query,
    Req.CLIENT_POLL_INTERVAL: BadClient.poll_interval,
    Req.CLIENT_POLL_BACKOFF: BadClient.poll_backoff,
    Req.CLIENT_RETRY_AFTER: BadClient.retry_after,
    Req.CLIENT_IDEMPOTENT_RETRY: BadClient.idempotent_retry,
    Req.CLIENT_EXPIRED_URL: BadClient.expired_url,
    Req.CLIENT_RATELIMIT_LEFT: BadClient.ratelimit_left,
}


def test_every_client_rule_has_a_break() -> None:
    assert set(RULES) == set(CLIENT_REQUIREMENTS)


@pytest.mark.slow
def test_each_break_is_reported_once_on_the_client_side(start_proxy: StartProxy) -> None:
    with (
        kit_server() as audio,
        run_server(render_workers=1, audio_hosts=["127.0.0.1"]) as mock,
        start_proxy(mock.base_url) as proxy,
    ):
        client = BadClient(proxy, mock.base_url, audio.add_file("speech.wav", speech_wav(0.6), "audio/wav"))
        for rule in RULES.values():
            rule(client)
        time.sleep(1.6)  # the abandoned generate's answer arrives after the mock's latency
    violations = proxy.proxy.judge.violations
    assert [v for v in violations if v.side == "server"] == [], proxy.texts("server")
    counts = Counter(v.requirement for v in violations if v.side == "client")
    assert counts == Counter(set(RULES)), proxy.texts("client")
    tenants = {v.requirement: v.tenant for v in violations}
    assert tenants[Req.CLIENT_POLL_BACKOFF] != tenants[Req.CLIENT_POLL_INTERVAL]
    assert all("bad-" not in v.curl for v in violations), "a token leaked into a curl command"
