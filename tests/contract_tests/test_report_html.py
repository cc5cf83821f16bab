"""The shareable HTML report: one self-contained file, every requirement a row, the service's words
escaped; opened in Chromium (Debian's, `scripts/install-browser`) as a partner would open it."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import load_spec
from a2v_testkit.browser import CHROMIUM, CHROMIUM_ARGS
from contract_tests.coverage import Coverage
from contract_tests.evidence import RequestTiming, TaskSeen
from contract_tests.report import ItemResult, KitReport, Outcome
from contract_tests.report_html import render
from contract_tests.requirement_ids import Req
from contract_tests.violations import Violation
from tests.contract_tests.faulty.faults import HOSTILE, hostile_markup

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from playwright.sync_api import Browser, Dialog, Page


CURL = (
    "curl -i -X POST -H 'accept: application/json' -H \"Authorization: Bearer $A2V_TOKEN\" "
    "-H 'content-type: application/json' --data-binary "
    '\'{"model_id":"eva_a0008","audio_url":"http://127.0.0.1:9/a.wav"}\' '
    "http://127.0.0.1:8000/v1/a2v/video.generate"
)


def _report() -> dict[str, Any]:
    """A report as a run leaves it: a passed, a failed (with its curl), an inconclusive and a skipped
    requirement; two timed operations; one task read in three statuses; coverage with optional fields."""
    report = KitReport(
        items=[
            ItemResult("t1", [Req.PING], Outcome.PASSED),
            ItemResult(
                "t2",
                [Req.ERROR_UNKNOWN_MODEL],
                Outcome.FAILED,
                [
                    Violation(
                        Req.ERROR_UNKNOWN_MODEL, "expected HTTP 404 / 20001", "HTTP 404", "HTTP 200", CURL
                    )
                ],
            ),
            ItemResult("t3", [Req.GENERATE_READABLE], Outcome.PASSED),
            ItemResult("t4", [Req.CALLBACK_DELIVERY], Outcome.SKIPPED, message="skipped by --skip"),
        ]
    )
    report.identify("http://127.0.0.1:8000")
    report.evidence.saw(Req.PING, n=3)
    report.evidence.saw(Req.GENERATE_READABLE, n=2)
    at = report.started
    for i, seconds in enumerate([0.004, 0.006, 0.005, 0.120]):
        report.evidence.timed(RequestTiming("getVideo", "GET", 200, at + i, seconds))
    report.evidence.timed(RequestTiming("ping", "GET", 200, at, 0.002))
    for t, status, progress in [
        (0.0, None, None),
        (0.1, "pending", 0),
        (0.7, "in_progressing", 40),
        (1.9, "finished", 100),
    ]:
        report.evidence.task("v" * 32, TaskSeen(at + t, status, progress))
    report.evidence.task("u" * 32, TaskSeen(at + 0.3, None))  # created, never read
    report.coverage = Coverage.of(load_spec())
    report.finished = at + 2.5
    data = report.as_dict()
    # Engineer "spec"'s coverage dimension, as the JSON report carries it once it is there.
    data["coverage"].setdefault(
        "optional_fields",
        {
            "getVideo": {"seen": ["progress"], "never_seen": ["duration", "model_id"]},
            "listVideos": {"seen": [], "never_seen": ["audio_url"]},
        },
    )
    return data


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="requirement [^"]*" id="req-([^"]+)"', page)


def test_one_row_per_requirement_with_quote_outcome_evidence_and_the_failure_curl() -> None:
    data = _report()
    page = render(data)

    assert _rows(page) == list(data["requirements"])
    failed = page.split('id="req-A2V-ERROR-UNKNOWN-MODEL"', 1)[1].split("</tr>", 1)[0]
    assert 'id="req-A2V-ERROR-UNKNOWN-MODEL" data-outcome="failed"' in page
    assert '<pre class="curl">' in failed
    assert "$A2V_TOKEN" in failed
    assert "--data-binary" in failed
    assert "video.generate" in failed
    assert "with a `model_id` that `character.list` does not return." in failed
    inconclusive = page.split('id="req-A2V-GENERATE-READABLE"', 1)[1].split("</tr>", 1)[0]
    assert "not judged: missing" in inconclusive
    assert "judged: 2" in inconclusive


def test_identity_coverage_timelines_and_histograms() -> None:
    data = _report()
    page = render(data)

    for key in ("kit_version", "spec_sha256", "target_url", "started", "finished"):
        assert data[key], key
        assert str(data[key]) in page
    assert len(data["spec_sha256"]) == 64
    assert 'data-dimension="optional_fields: getVideo"' in page
    assert (
        "<code>data.model_id</code>"
        in page.split('data-dimension="optional_fields: getVideo"', 1)[1].split("</tr>")[0]
    )
    assert 'data-dimension="task statuses"' in page
    assert page.count('<figure class="timeline"') == 1  # the task never read is listed, not drawn
    assert f"<code>{'u' * 32}</code>" in page.split('id="unread-tasks"', 1)[1].split("</p>", 1)[0]
    timeline = page.split('<figure class="timeline"', 1)[1].split("</figure>", 1)[0]
    assert timeline.count("<circle") == 3  # three reads; the generate answer is the dashed tick
    assert "1.90 s: finished 100%" in timeline  # seconds since video.generate answered
    assert re.findall(r'<figure class="histogram" data-operation="([^"]+)"', page) == ["getVideo", "ping"]
    assert "4 answers" in page


def test_self_contained_nothing_fetched_nothing_run() -> None:
    page = render(_report())

    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;' in page
    assert "<script" not in page.lower()
    assert not re.search(r"\b(src|href)\s*=", page), "the page refers to another resource"
    assert "url(" not in page
    assert "@import" not in page


def test_the_services_words_are_text_never_markup() -> None:
    data = _report()
    data["requirements"][Req.ERROR_UNKNOWN_MODEL]["violations"][0].update(
        message=HOSTILE, got=HOSTILE, curl=HOSTILE
    )
    data["tasks"][HOSTILE] = [{"t": 0.0, "status": HOSTILE, "progress": None}]
    data["timings"][HOSTILE] = [0.1]
    data["target_url"] = HOSTILE
    data["coverage"]["optional_fields"][HOSTILE] = {"seen": [HOSTILE], "never_seen": []}

    page = render(data)

    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page


def test_the_json_report_carries_the_same_identity(tmp_path: Path) -> None:
    report = KitReport(items=[ItemResult("t1", [Req.PING], Outcome.PASSED)])
    report.identify("http://127.0.0.1:8000")
    report.evidence.saw(Req.PING)
    path = tmp_path / "deep" / "report.html"
    report.write_html(path)
    import json

    report.write_json(tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text())
    page = path.read_text(encoding="utf-8")
    for key in ("kit_version", "spec_sha256", "target_url", "started"):
        assert data[key]
        assert str(data[key]) in page


# -- in Chromium ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched by path as the project's browser tests do (`a2v_testkit.browser`)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("/usr/bin/chromium is missing: scripts/test runs scripts/install-browser first")
        pytest.skip("/usr/bin/chromium is missing; run scripts/install-browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _open(browser: Browser, path: Path) -> tuple[Page, list[str], list[str]]:
    """The report opened from disk; (page, console errors and page errors, every URL requested)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requested: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda err: errors.append(str(err)))

    def dialog_opened(dialog: Dialog) -> None:
        errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dialog_opened)
    page.on("request", lambda request: requested.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requested


def test_renders_in_chromium_without_errors_one_row_per_requirement(browser: Browser, tmp_path: Path) -> None:
    data = _report()
    path = tmp_path / "report.html"
    path.write_text(render(data), encoding="utf-8")

    page, errors, requested = _open(browser, path)
    try:
        assert page.locator("tr.requirement").count() == len(data["requirements"])
        assert page.locator("#verdict").inner_text() == "Does not conform"
        assert page.locator("figure.timeline svg circle").count() == 3
        assert page.locator("figure.histogram svg rect").count() >= 2
        assert page.locator("#req-A2V-ERROR-UNKNOWN-MODEL pre.curl").inner_text() == CURL
        assert requested == [path.as_uri()]
        assert errors == []
    finally:
        page.close()


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[KitReport, Path]:
    """The kit's own run against a service whose answers carry script and markup, as HTML."""
    from contract_tests.config import KitOptions
    from contract_tests.runner import run_with_exit_code
    from mock_server.config import Settings
    from mock_server.scenario_values import Timings
    from tests.contract_tests.conftest import PENDING_SECONDS

    folder = tmp_path_factory.mktemp("hostile")
    settings = Settings(
        data_dir=folder / "mock-data",
        render_workers=1,
        audio_hosts=["127.0.0.1"],
        timings=Timings(pending_seconds=PENDING_SECONDS),
    )
    path = folder / "report.html"
    result = run_with_exit_code(
        KitOptions(
            base_url="http://testserver",
            app=hostile_markup(settings),
            api_key="kit-tenant-a",
            only=[Req.GENERATE_READABLE, Req.ERROR_UNKNOWN_VIDEO, Req.ENVELOPE],
            seed=1,
            timeout=20.0,
            report_html=path,
        )
    )
    # Caught for what it is (its status is no status), not only escaped.
    assert result.exit_code == 1, result.report.text()
    assert result.report.outcomes()[Req.GENERATE_READABLE] == "failed", result.report.text()
    return result.report, path


def test_a_hostile_services_markup_is_shown_not_run(
    browser: Browser, hostile_report: tuple[KitReport, Path]
) -> None:
    report, path = hostile_report
    html = path.read_text(encoding="utf-8")
    script = HOSTILE.split("<img", 1)[0]  # the part a JSON body carries unchanged (no double quote)
    assert script in report.text()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()

    page, errors, requested = _open(browser, path)
    try:
        assert page.title().startswith("A2V conformance report")
        assert page.evaluate("document.scripts.length") == 0
        assert page.locator("img").count() == 0
        shown = page.locator("body").inner_text()
        assert script in shown
        lanes = page.locator("figure.timeline").first.text_content() or ""
        assert HOSTILE in lanes  # a status lane's label
        assert page.locator("tr.requirement").count() == len(report.requirements())
        assert requested == [path.as_uri()]
        assert errors == []
    finally:
        page.close()


def test_a_failures_curl_sends_the_failing_request_again(tmp_path: Path) -> None:
    """The report's `curl` is the request, not a description of it: run by a shell with `A2V_TOKEN`
    set, it reaches the server with the same method, path, query, headers and body."""
    import json
    import shutil
    import subprocess

    import httpx

    from a2v_testkit import ServerThread
    from contract_tests.violations import curl

    if shutil.which("curl") is None:
        pytest.skip("no curl on this machine")
    received: list[dict[str, Any]] = []

    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        received.append(
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"].decode(),
                "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
                "body": body,
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    with ServerThread(echo) as server:
        body = {"model_id": "eva_a0008", "audio_url": 'http://127.0.0.1:9/it\'s a "quoted" $HOME.wav'}
        request = httpx.Request(
            "POST",
            f"{server.base_url}/v1/a2v/video.generate?x=1&y=a%20b",
            headers={"Authorization": "Bearer secret-key", "Idempotency-Key": "kit-1"},
            json=body,
        )
        command = curl(request)
        assert "secret-key" not in command
        subprocess.run(
            ["bash", "-c", command + " -s -o /dev/null"],
            env={**os.environ, "A2V_TOKEN": "secret-key"},
            check=True,
            timeout=30,
        )
    (got,) = received
    assert (got["method"], got["path"], got["query"]) == ("POST", "/v1/a2v/video.generate", "x=1&y=a%20b")
    assert got["headers"]["authorization"] == "Bearer secret-key"
    assert got["headers"]["idempotency-key"] == "kit-1"
    assert got["headers"]["content-type"] == "application/json"
    assert json.loads(got["body"]) == body
