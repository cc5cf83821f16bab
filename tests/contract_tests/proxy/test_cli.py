"""`a2v-contract proxy` as a user runs it: a subprocess that prints violations as they happen, and on
SIGTERM prints the summary, writes JUnit XML, JSON and the recording, and exits 1 (violations seen)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

import httpx
import pytest

from a2v_testkit import free_port
from contract_tests.cli import main
from contract_tests.proxy import CLIENT_REQUIREMENTS, SERVER_JUDGED
from contract_tests.requirement_ids import Req
from mock_server.testing import run_server

if TYPE_CHECKING:
    from pathlib import Path


def _wait_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            httpx.get(f"{url}/v1/ping", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"the proxy did not answer on {url}")


def test_cli_session(tmp_path: Path) -> None:
    port = free_port()
    junit, report, record = tmp_path / "proxy.xml", tmp_path / "proxy.json", tmp_path / "rec"
    with run_server(render_workers=1) as mock:
        process = subprocess.Popen(
            [sys.executable, "-m", "contract_tests.cli", "proxy", "--upstream", mock.base_url,
             "--listen", f"127.0.0.1:{port}", "--junit-xml", str(junit), "--report-json", str(report),
             "--record", str(record)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_up(base, process)
            secret = "cli-secret-token-1234"
            headers = {"Authorization": f"Bearer {secret}"}
            assert httpx.get(f"{base}/v1/a2v/character.list", headers=headers).status_code == 200
            httpx.get(f"{base}/v1/a2v/video.list", params={"page_size": 0, "token": secret}, headers=headers)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert process.returncode == 1, out + err
    assert "[client] A2V-CLIENT-REQUEST-SCHEMA" in out  # printed as it happened
    assert Req.CLIENT_TOKEN_IN_QUERY in out.split("exchanges judged")[1]  # and in the summary
    data = json.loads(report.read_text())
    assert data["requirements"][Req.CLIENT_TOKEN_IN_QUERY]["outcome"] == "failed"
    assert data["requirements"][Req.CHARACTERS]["outcome"] == "passed"
    assert data["requirements"][Req.CALLBACK_DELIVERY]["outcome"] == "not judged"
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == set(SERVER_JUDGED) | set(CLIENT_REQUIREMENTS)
    assert cases[Req.CLIENT_TOKEN_IN_QUERY].find("failure") is not None
    lines = (record / "exchanges.jsonl").read_text().splitlines()
    assert len(lines) == 3  # ping, character.list, video.list
    assert secret not in "".join(lines) + out + err + report.read_text() + junit.read_text()
    first = json.loads(lines[1])
    assert first["tenant"].startswith("tenant-")
    assert ["authorization", f"Bearer {first['tenant']}"] in first["request"]["headers"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["proxy", "--upstream", "ftp://x"], "must be an http(s) URL"),
        (["proxy", "--upstream", "http://x", "--listen", "8080"], "--listen takes host:port"),
        (["proxy", "--upstream", "http://x", "--record-files"], "--record-files needs --record"),
    ],
)
def test_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
