"""`/`: a browser lands on the console; an API client keeps the 404 envelope, which says where to go."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from mock_server.config import Settings
from mock_server.runtime.app import create_app
from mock_server.testing import app_client

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir: Path = tmp_path_factory.mktemp("console")
    with app_client(create_app(Settings(data_dir=data_dir, prewarm=False))) as client:
        yield client


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_browser_at_the_root_is_sent_to_the_console(client: httpx.Client, method: str) -> None:
    answer = client.request(method, "/", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == "/console/"
    landed = client.get("/", headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True)
    assert landed.url.path == "/console/"
    assert "<title>a2v-mock console</title>" in landed.text


@pytest.mark.parametrize(
    ("method", "accept"),
    [("GET", "*/*"), ("GET", "application/json"), ("GET", None), ("POST", BROWSER_ACCEPT), ("DELETE", "*/*")],
)
def test_an_api_client_at_the_root_gets_the_404_envelope_naming_docs_and_console(
    client: httpx.Client, method: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = client.request(method, "/", headers=headers, follow_redirects=False)
    assert answer.status_code == 404
    body = answer.json()
    assert body["code"] == 1007
    assert body["data"] is None
    for where in ("/v1/a2v/", "/docs", "/openapi.yaml", "/console/"):
        assert where in body["message"]
