"""The console, clicked through in Chromium: generate, watch, play, fail, filter, log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from mock_server.redact import tenant_label

from .conftest import open_console, serve

if TYPE_CHECKING:
    from playwright.sync_api import FilePayload, Page

    from mock_server.testing import RunningServer

#: Plays a <video> muted to its end; resolves with the currentTime values seen on the way.
PLAY_TO_END = """async (selector) => {
  const video = document.querySelector(selector);
  const seen = [];
  video.addEventListener("timeupdate", () => seen.push(video.currentTime));
  const ended = new Promise((resolve) => video.addEventListener("ended", resolve, { once: true }));
  video.muted = true;
  await video.play();
  await ended;
  return { seen, ended: video.ended, duration: video.duration, width: video.videoWidth };
}"""


def test_generate_from_the_form_watch_it_finish_and_play_it(page: Page, server: RunningServer) -> None:
    open_console(page, server.base_url, "new")
    page.select_option("#new-character", "eva_a0008")
    page.check("input[name=source][value=sample]")
    page.select_option("#new-sample", label="short.wav — one second, the quickest render")

    page.click("#new-submit")

    page.wait_for_url("**/console/#/task/*")
    page.wait_for_selector("#task-status.finished", timeout=60_000)
    request = page.text_content("#task-request")
    assert request is not None
    assert request.startswith("POST /v1/a2v/video.generate")
    played = page.evaluate(PLAY_TO_END, "#task-video")
    assert played["ended"] is True
    assert played["width"] == 512
    assert len(played["seen"]) >= 2
    assert played["seen"][-1] > played["seen"][0]
    assert played["seen"][-1] >= played["duration"] - 0.1
    mask = page.evaluate(PLAY_TO_END, "#task-mask")
    assert mask["ended"] is True
    page.click("text=← all tasks")
    row = page.locator("#tasks-table tbody tr").first
    assert row.get_attribute("data-status") == "finished"


def test_fail_the_next_task_from_the_scenario_panel_and_see_its_error(
    page: Page, server: RunningServer
) -> None:
    open_console(page, server.base_url, "scenario")
    page.select_option("#fail-next-code", "10003")

    page.click("#fail-next")

    page.wait_for_selector("#next-tasks:has-text('error 10003')")
    page.click("nav >> text=New video")
    page.click("#new-submit")
    page.wait_for_selector("#task-status.error", timeout=30_000)
    error = page.text_content("#task-error")
    assert error is not None
    assert error.startswith("error 10003: ")
    assert server.mock.scenario.next_tasks == []
    page.click("text=← all tasks")
    assert "10003" in (page.locator("#tasks-table tbody tr").first.text_content() or "")


def test_fail_a_running_task_from_its_page(page: Page, server: RunningServer) -> None:
    httpx.put(f"{server.base_url}/__admin/scenario", json={"timings": {"pending_seconds": 60}})
    open_console(page, server.base_url, "new")
    page.click("#new-submit")
    page.wait_for_selector("#task-status.pending")
    page.select_option("#task-fail-code", "10002")

    page.click("#task-fail")

    page.wait_for_selector("#task-status.error")
    assert (page.text_content("#task-error") or "").startswith("error 10002: ")


def test_filter_the_journal(page: Page, server: RunningServer) -> None:
    headers = {"Authorization": "Bearer journal-test"}
    for _ in range(3):
        httpx.get(f"{server.base_url}/v1/ping", headers=headers)
    missing = httpx.get(f"{server.base_url}/v1/a2v/video.get", params={"video_id": "0" * 32}, headers=headers)
    assert missing.status_code >= 400
    open_console(page, server.base_url, "journal")
    page.select_option("#tenant", tenant_label("journal-test"))

    page.fill("#journal-filter input[name=path]", "/v1/ping")
    page.click("#journal-filter button[type=submit]")

    page.wait_for_selector("#journal-count:has-text('3 matching')")
    paths = page.locator("#journal-table tbody tr:not(.detail)").evaluate_all(
        "rows => rows.map(r => r.dataset.path)"
    )
    assert paths == ["/v1/ping"] * 3
    page.fill("#journal-filter input[name=path]", "")
    page.fill("#journal-filter input[name=status]", str(missing.status_code))
    page.click("#journal-filter button[type=submit]")
    page.wait_for_selector("#journal-count:has-text('1 matching')")
    first = page.locator("#journal-table tbody tr:not(.detail)").first
    first.click()
    detail = page.locator("#journal-table tbody tr.detail").first.text_content() or ""
    assert "journal-test" not in detail  # the token is never shown
    assert '"authorization": "Bearer <tok-' in detail


def test_keyed_mode_asks_for_the_admin_key_and_never_shows_a_token(page: Page) -> None:
    with serve(api_keys=["api-key-123"], admin_key="admin-key-456") as server:
        page.goto(f"{server.base_url}/console/")
        page.wait_for_selector("#login[open]")
        page.fill("#login input[name=admin]", "admin-key-456")
        page.fill("#login input[name=token]", "api-key-123")
        page.click("#login button[type=submit]")
        page.wait_for_selector("body[data-ready=true]")

        assert page.text_content("#mode") == "keyed mode"
        html = page.content()
        assert "api-key-123" not in html
        assert "admin-key-456" not in html
        assert (page.text_content("#acting") or "").startswith("you act as tok-")


def test_keyed_mode_without_admin_key_says_the_admin_api_is_off(page: Page) -> None:
    """Keyed mode without an admin key serves no admin API (issue 22), so no console: it says how to
    enable it instead of failing silently."""
    with serve(api_keys=["api-key-789"]) as server:
        page.goto(f"{server.base_url}/console/")
        page.wait_for_selector("#banner:not([hidden])")
        text = page.text_content("#banner") or ""
        assert "admin API is off" in text
        assert "--admin-key" in text
        assert "(code 1012)" in text


def test_upload_a_file_from_the_form_and_render_it(page: Page, server: RunningServer) -> None:
    from mock_server.samples import Samples

    open_console(page, server.base_url, "new")
    page.check("input[name=source][value=upload]")
    upload: FilePayload = {
        "name": "mine.wav",
        "mimeType": "audio/wav",
        "buffer": Samples().bytes_of("short.wav"),
    }
    page.set_input_files("#new-file", files=[upload])

    page.click("#new-submit")

    page.wait_for_selector("#task-status.finished", timeout=60_000)
    audio = page.locator("#task-facts dd").nth(1).text_content() or ""
    assert "/files/uploads/" in audio
    assert "Signature=" in audio
