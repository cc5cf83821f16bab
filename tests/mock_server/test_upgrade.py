"""A data directory written by the last released version opens with nothing lost: that version kept an
API key's or open-mode token's tasks, idempotency keys and deliveries under the token itself; tenants
are derived ids now (`auth.tenant_id`), so the store renames them once, at open."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import TYPE_CHECKING

import httpx

from a2v_spec import ErrorCode, Status
from mock_server.auth import tenant_id
from mock_server.store.protocol import Delivery, Task, new_video_id
from mock_server.store.sqlite import SqliteStore
from mock_server.testing import run_server

if TYPE_CHECKING:
    from pathlib import Path

TOKEN = "partner-key-2025"


def _released_layout(data_dir: Path) -> str:
    """What the released version left: a failed task, its idempotency key and its delivery, each under
    the raw token (written through the store with no tenant derivation, as that version wrote them)."""

    async def write() -> str:
        store = SqliteStore(data_dir)
        now = int(time.time())
        video_id = new_video_id()
        await store.insert_task(
            Task(video_id, TOKEN, TOKEN, "eva_a0008", "http://127.0.0.1:9/a.wav", "http://127.0.0.1:9/cb",
                 Status.ERROR, 40, ErrorCode.FILE_NOT_FOUND, "gone", None, now, now)
        )  # fmt: skip
        await store.remember_key(TOKEN, "order-1", "0" * 64, video_id)
        delivery: Delivery = {
            "delivery_id": "d-1", "video_id": video_id, "tenant": TOKEN, "url": "http://127.0.0.1:9/cb",
            "event": "video.error", "attempts": 5, "last_status": 500, "last_error": None, "state": "failed",
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        await store.save_delivery(delivery)
        await store.aclose()
        return video_id

    video_id = asyncio.run(write())
    with sqlite3.connect(data_dir / "mock.sqlite3") as db:
        db.execute("DELETE FROM meta WHERE key='tenant_ids'")  # the released version had no such mark
    return video_id


def test_an_upgraded_data_directory_keeps_each_tenants_tasks_keys_and_deliveries(tmp_path: Path) -> None:
    video_id = _released_layout(tmp_path)
    with (
        run_server(data_dir=tmp_path, audio_hosts=["127.0.0.1"]) as server,
        httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client,
    ):
        listed = client.get("/v1/a2v/video.list").json()["data"]
        assert [v["video_id"] for v in listed] == [video_id]
        video = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
        assert (video["status"], video["error"]["code"]) == ("error", ErrorCode.FILE_NOT_FOUND)
        reused = client.post(
            "/v1/a2v/video.generate",
            json={"model_id": "eva_a0008", "audio_url": "http://127.0.0.1:9/other.wav"},
            headers={"Idempotency-Key": "order-1"},
        )
        assert reused.json()["code"] == ErrorCode.IDEMPOTENCY_CONFLICT  # the key is still the tenant's
        deliveries = client.get("/__admin/callbacks", params={"tenant": TOKEN}).json()["data"]
        assert [d["delivery_id"] for d in deliveries] == ["d-1"]
    with sqlite3.connect(tmp_path / "mock.sqlite3") as db:
        tenants = {row[0] for table in ("tasks", "idempotency", "callbacks")
                   for row in db.execute(f"SELECT tenant FROM {table}")}  # fmt: skip
    assert tenants == {tenant_id(TOKEN)}


def test_the_renaming_runs_once_and_a_new_directory_is_only_marked(tmp_path: Path) -> None:
    fresh = SqliteStore(tmp_path / "new", tenant_of=tenant_id)
    assert fresh.db.execute("SELECT value FROM meta WHERE key='tenant_ids'").fetchone()[0] == "derived"
    asyncio.run(fresh.aclose())
    _released_layout(tmp_path / "old")
    calls: list[str] = []

    def counting(token: str) -> str:
        calls.append(token)
        return tenant_id(token)

    for _ in range(2):
        asyncio.run(SqliteStore(tmp_path / "old", tenant_of=counting).aclose())
    assert calls == [TOKEN]
