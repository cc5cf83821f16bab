"""Recording: every token the proxy knows becomes its tenant id, bodies are capped, media kept aside."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

from contract_tests.proxy.exchange import tenant_of
from contract_tests.proxy.record import Recorder
from tests.contract_tests.proxy.conftest import exchange

if TYPE_CHECKING:
    from pathlib import Path


def test_tokens_become_tenant_ids_everywhere(tmp_path: Path) -> None:
    login = exchange(
        "POST",
        "/v1/auth/account.login",
        token=None,
        body=b'{"username": "u", "password": "p"}',
        answer={"code": 0, "message": "success",
                "data": {"access_token": "acc-123456", "refresh_token": "ref-654321", "expired_at": 1}},
    )  # fmt: skip
    used = exchange(query="token=acc-123456", token="acc-123456")
    recorder = Recorder(tmp_path, body_limit=40)
    secrets = frozenset({"acc-123456", "ref-654321"})
    recorder.record(login, secrets)
    recorder.record(dataclasses.replace(used, seq=2), secrets)
    recorder.close()
    text = (tmp_path / "exchanges.jsonl").read_text()
    assert "acc-123456" not in text
    assert "ref-654321" not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["response"]["truncated"] is True  # 40 bytes kept of a longer body
    assert second["tenant"] == tenant_of("acc-123456")
    assert second["request"]["query"] == f"token={tenant_of('acc-123456')}"
    assert ["authorization", f"Bearer {tenant_of('acc-123456')}"] in second["request"]["headers"]


def test_media_are_kept_as_files_not_inlined(tmp_path: Path) -> None:
    download = dataclasses.replace(
        exchange(path="/files/videos/v.mp4", token=None, response_headers={"content-type": "video/mp4"}),
        response_body=b"\x00mp4",
        response_size=4,
        upstream_url="http://upstream/files/videos/v.mp4?Expires=1&Signature=s",
        file_path="/files/videos/v.mp4?Expires=1&Signature=s",
    )
    recorder = Recorder(tmp_path, files=True)
    recorder.record(download, frozenset())
    recorder.close()
    line = json.loads((tmp_path / "exchanges.jsonl").read_text())
    assert line["response"]["body"] is None
    assert line["file"] == "files/v.mp4"
    assert (tmp_path / "files" / "v.mp4").read_bytes() == b"\x00mp4"
