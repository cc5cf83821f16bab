"""CORS, from a page on another origin in Chromium: the preflight and the call really succeed (or not)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import serve

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Page

PAGE = b"""<!doctype html><meta charset="utf-8"><title>front-end</title><p>a front-end's dev server</p>"""

#: What a front-end does: a call with a bearer token (so the browser sends a preflight first).
CALL = """async ([base, token]) => {
  try {
    const headers = { Authorization: "Bearer " + token };
    const response = await fetch(base + "/v1/a2v/character.list", { headers });
    const body = await response.json();
    const left = response.headers.get("X-Ratelimit-Left");
    return { ok: true, status: response.status, code: body.code, left };
  } catch (err) {
    return { ok: false, error: String(err) };
  }
}"""


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A second HTTP server on 127.0.0.1 (another port is another origin) serving a blank page."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize(
    ("settings", "token", "allowed"),
    [
        pytest.param({}, "any-token", True, id="open-mode-default-any-origin"),
        pytest.param({"cors_origins": []}, "any-token", False, id="open-mode-no-cors"),
        pytest.param({"api_keys": ["k1"]}, "k1", False, id="keyed-mode-default-off"),
        pytest.param(
            {"api_keys": ["k1"], "cors_origins": ["ORIGIN"]}, "k1", True, id="keyed-mode-origin-set"
        ),
    ],
)
def test_a_page_on_another_origin_calls_the_mock(
    page: Page, other_origin: str, settings: dict[str, Any], token: str, allowed: bool
) -> None:
    if settings.get("cors_origins") == ["ORIGIN"]:
        settings = {**settings, "cors_origins": [other_origin]}
    with serve(**settings) as server:
        page.goto(other_origin + "/")

        result = page.evaluate(CALL, [server.base_url, token])

        if allowed:
            assert result == {"ok": True, "status": 200, "code": 0, "left": result["left"]}
            assert int(result["left"]) >= 0  # an exposed header is readable from the page
            preflights = server.mock.journal.query(method="OPTIONS")
            assert preflights == []  # answered before the gateway: no rate limit, no fault, no journal
        else:
            assert result["ok"] is False
            assert "Failed to fetch" in result["error"]
        page.evaluate("(text) => { document.body.append(text); }", f"allowed={allowed}: {result}")
