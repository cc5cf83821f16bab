"""Browser tests: Playwright for Python driving Debian's Chromium (`scripts/install-browser`).

`playwright install` is never used: the browser is `/usr/bin/chromium`, launched headless with the
flags of `a2v_testkit.browser` (no network of its own, no GPU, no sandbox inside containers). Every
test ends with a screenshot in `artifacts/browser/<test>.png` (git-ignored), passed or failed, so a
person can look.
Without Chromium the tests are skipped, except in CI (`CI=true`), where a missing browser fails.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from a2v_testkit.browser import CHROMIUM, CHROMIUM_ARGS
from mock_server.testing import run_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from playwright.sync_api import Browser, Page, ViewportSize

    from mock_server.testing import RunningServer

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "browser"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in this thread while it is started, which would break later tests that call asyncio.run."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: scripts/test runs scripts/install-browser first")
        pytest.skip("/usr/bin/chromium is missing; run scripts/install-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


#: The sizes the console is checked at: a desktop window and a phone held upright.
VIEWPORTS: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def _open_page(browser: Browser, request: pytest.FixtureRequest, viewport: ViewportSize) -> Iterator[Page]:
    """A fresh browser context (own storage) at `viewport`, whose last state is screenshotted."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda err: errors.append(str(err)))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A desktop-sized page."""
    yield from _open_page(browser, request, VIEWPORTS["desktop"])


@pytest.fixture(params=sorted(VIEWPORTS))
def sized_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """The test runs once per entry of `VIEWPORTS` (desktop and phone)."""
    yield from _open_page(browser, request, VIEWPORTS[request.param])


def serve(**settings: Any) -> Any:
    """A real mock for the browser: one render process, fast timings."""
    settings.setdefault("render_workers", 1)
    settings.setdefault("prewarm", False)
    return run_server(**settings)


@pytest.fixture
def server() -> Iterator[RunningServer]:
    with serve() as running:
        yield running


def open_console(page: Page, base_url: str, view: str = "tasks") -> None:
    page.goto(f"{base_url}/console/#/{view}")
    page.wait_for_selector("body[data-ready=true]")
