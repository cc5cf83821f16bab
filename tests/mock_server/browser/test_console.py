"""The console, clicked through in Chromium: generate, watch, play, fail, filter, log in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

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
    from mock_server.tasks.samples import Samples

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


# --- a newcomer's first hour, at a desktop and at a phone's width (`sized_page`) -----------------------

#: Everything a person can read on the page: its text, and the values of its fields.
VISIBLE_TEXT = """() => document.body.innerText + "\\n" +
  Array.from(document.querySelectorAll("input, select, textarea"), (e) => e.value).join("\\n")"""


def _generate(base_url: str, token: str, prefer: str | None = None) -> str:
    headers = {"Authorization": f"Bearer {token}", **({"Prefer": prefer} if prefer else {})}
    body = {"model_id": "eva_a0008", "audio_url": f"{base_url}/samples/short.wav"}
    answer = httpx.post(f"{base_url}/v1/a2v/video.generate", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    video_id: str = answer.json()["data"]["video_id"]
    return video_id


def _task_ids(page: Page) -> list[str]:
    ids: list[str] = page.locator("#tasks-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.videoId)"
    )
    return ids


def test_open_mode_acts_as_the_readmes_dev_token_and_as_any_token_typed(
    sized_page: Page, server: RunningServer
) -> None:
    page = sized_page
    mine = _generate(server.base_url, "dev")
    theirs = _generate(server.base_url, "someone-elses-secret")

    open_console(page, server.base_url)

    assert page.input_value("#token") == "dev"
    assert page.text_content("#acting") == f"you act as {tenant_label('dev')}"
    page.wait_for_selector(f"#tasks-table tr[data-video-id='{mine}']")
    assert _task_ids(page) == [mine]
    page.fill("#token", "my-own-token")
    page.click("#token-use")
    page.wait_for_selector(f"#acting:has-text('{tenant_label('my-own-token')}')")
    page.wait_for_selector("#tasks-empty:visible")
    page.click("nav >> text=New video")
    page.click("#new-submit")
    page.wait_for_url("**/console/#/task/*")
    made = page.url.rsplit("/", 1)[-1]
    typed = httpx.get(
        f"{server.base_url}/v1/a2v/video.get",
        params={"video_id": made},
        headers={"Authorization": "Bearer my-own-token"},
    )
    assert typed.status_code == 200  # the console called the API as the token typed
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    assert page.input_value("#token") == "my-own-token"  # kept in this browser
    page.click("nav >> text=Tasks")
    page.select_option("#tenant", tenant_label("someone-elses-secret"))
    page.wait_for_selector(f"#tasks-table tr[data-video-id='{theirs}']")
    seen = page.evaluate(VISIBLE_TEXT) + page.content()
    assert "someone-elses-secret" not in seen  # another tenant: its label, never its token
    assert tenant_label("someone-elses-secret") in seen


def _reset(page: Page, confirm: bool) -> None:
    page.click("#reset-tenant")
    page.wait_for_selector("#confirm-reset[open]")
    page.click("#confirm-reset-ok" if confirm else "#confirm-reset-cancel")
    page.wait_for_selector("#confirm-reset[open]", state="detached")


def _video_status(base_url: str, video_id: str, token: str = "dev") -> int:
    answer = httpx.get(
        f"{base_url}/v1/a2v/video.get",
        params={"video_id": video_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    code: int = answer.json()["code"]
    return code


def test_reset_this_tenant_asks_first_and_cancel_keeps_everything(
    sized_page: Page, server: RunningServer
) -> None:
    page = sized_page
    video_id = _generate(server.base_url, "dev")
    open_console(page, server.base_url, "scenario")

    _reset(page, confirm=False)

    assert _video_status(server.base_url, video_id) == 0
    assert page.text_content("#scenario-saved") == "nothing was reset"
    page.click("#reset-tenant")
    assert page.text_content("#confirm-reset-tenant") == tenant_label("dev")
    page.click("#confirm-reset-ok")
    page.wait_for_selector(f"#scenario-saved:has-text('{tenant_label('dev')} reset')")
    assert _video_status(server.base_url, video_id) == 20002  # forgotten: unknown video id


def test_a_scenario_error_banner_goes_after_a_good_save_and_after_a_reset(
    sized_page: Page, server: RunningServer
) -> None:
    page = sized_page
    open_console(page, server.base_url, "scenario")

    def refused_save() -> None:
        page.fill("#scenario-form input[name=latency_min]", "500")
        page.fill("#scenario-form input[name=latency_max]", "100")
        page.click("#scenario-save")
        page.wait_for_selector("#banner:visible")
        assert "latency_ms needs 0 <= min <= max" in (page.text_content("#banner") or "")

    refused_save()
    page.fill("#scenario-form input[name=latency_max]", "600")
    page.click("#scenario-save")
    page.wait_for_selector("#scenario-saved:has-text('saved at')")
    assert page.is_hidden("#banner")
    assert server.mock.scenario.latency_ms.max == 600
    refused_save()
    _reset(page, confirm=True)
    page.wait_for_selector("#scenario-saved:has-text('reset')")
    assert page.is_hidden("#banner")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "enter the audio's URL (http:// or https://)"),
        ("speech.wav", '"speech.wav" is not a URL'),
        ("ftp://127.0.0.1/a.wav", "over http:// or https:// only"),
    ],
)
def test_a_missing_or_bad_audio_url_is_explained_in_words(
    sized_page: Page, server: RunningServer, url: str, says: str
) -> None:
    page = sized_page
    open_console(page, server.base_url, "new")
    page.check("input[name=source][value=url]")
    page.fill("#new-url", url)

    page.click("#new-submit")

    page.wait_for_selector("#new-error:not(:empty)")
    message = page.text_content("#new-error") or ""
    assert says in message
    assert "^" not in message  # not the spec's pattern
    assert page.url.endswith("#/new")


#: How far the page reaches past the window's right edge, in CSS pixels (0: nothing to scroll sideways).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_no_view_is_wider_than_the_window(sized_page: Page, server: RunningServer) -> None:
    page = sized_page
    failed = _generate(server.base_url, "dev", prefer="outcome=error; error_code=10003")
    open_console(page, server.base_url)
    page.wait_for_selector(f"#tasks-table tr[data-video-id='{failed}'][data-status=error]")

    for view in ("tasks", "new", "journal", "scenario", f"task/{failed}"):
        page.goto(f"{server.base_url}/console/#/{view}")
        page.wait_for_selector(f"#view-{view.split('/')[0]}.active")
        if view == "journal":
            page.wait_for_selector("#journal-table tbody tr")
        assert page.evaluate(OVERFLOW) <= 0, view
    page.goto(f"{server.base_url}/console/#/tasks")
    row = f"#tasks-table tr[data-video-id='{failed}']"
    page.wait_for_selector(row)
    right = page.evaluate("(row) => document.querySelector(row).getBoundingClientRect().right", row)
    assert right <= page.evaluate("() => document.documentElement.clientWidth")
    assert "10003" in (page.text_content(row) or "")


#: Whether an input's placeholder fits in its box beside a number field's spinner (16 px in Chromium).
PLACEHOLDER_FITS = """(selector) => {
  const input = document.querySelector(selector);
  const style = getComputedStyle(input);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
  return { text: ctx.measureText(input.placeholder).width, room };
}"""


def test_the_duration_placeholder_is_shown_whole(sized_page: Page, server: RunningServer) -> None:
    open_console(sized_page, server.base_url, "new")

    fits = sized_page.evaluate(PLACEHOLDER_FITS, "#new-duration")

    assert fits["text"] > 0
    assert fits["text"] <= fits["room"], fits


def test_the_plan_and_the_creating_request_read_as_words(sized_page: Page, server: RunningServer) -> None:
    page = sized_page
    open_console(page, server.base_url, "new")
    page.select_option("#new-outcome", "error")
    page.select_option("#new-error-code", "10003")
    page.fill("#new-duration", "1.3")

    page.click("#new-submit")

    page.wait_for_selector("#task-status.error", timeout=30_000)
    plan = page.locator("#task-facts ul.plan li").all_text_contents()
    assert plan[0].startswith("fails with 10003 (")
    assert "pending for at least 0.39 s, then in progress for at least 0.91 s" in plan, plan
    assert any(item.startswith("accepted at ") for item in plan), plan
    assert "{" not in (page.text_content("#task-facts") or "")
    page.wait_for_selector("#task-request:not(.muted)")
    shown = page.text_content("#task-request") or ""
    assert shown.startswith("POST /v1/a2v/video.generate\n")
    assert "authorization: Bearer <tok-" in shown
    assert "prefer: outcome=error, error_code=10003, duration=1.3" in shown
    assert "content-type: application/json" in shown
    for hint in ("sec-ch-ua", "sec-fetch-", "user-agent:", "accept-language:"):
        assert hint not in shown
    page.check("#task-request-all")
    everything = page.text_content("#task-request") or ""
    assert "sec-fetch-mode: cors" in everything
    assert "user-agent:" in everything
