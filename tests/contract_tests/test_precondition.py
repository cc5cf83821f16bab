"""The precondition refuses only what does not answer JSON (or a refused key); the rest is judged."""

from __future__ import annotations

import json
from typing import Any

import pytest

from a2v_spec import load_spec
from a2v_testkit import ServerThread
from contract_tests.precondition import check_service


def _answering(status: int, body: bytes, kind: bytes, *, list_status: int | None = None) -> Any:
    """A server answering `body` to ping and (with `list_status`, if given) to everything else."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        code = status if scope["path"].endswith("/ping") or list_status is None else list_status
        await send({"type": "http.response.start", "status": code, "headers": [(b"content-type", kind)]})
        await send({"type": "http.response.body", "body": body})

    return app


JSON = b"application/json"


@pytest.mark.parametrize(
    ("app", "refused", "note"),
    [
        # What the API sends with its envelope wrong is for the run to judge (A2V-ENVELOPE, A2V-PING).
        (_answering(200, json.dumps({"code": "0", "message": "ok", "data": {}}).encode(), JSON), None, None),
        (_answering(200, json.dumps({"code": 0, "data": {"pong": True}}).encode(), JSON), None, None),
        (
            _answering(404, json.dumps({"code": 1007, "message": "Not Found"}).encode(), JSON),
            None,
            "HTTP 404",
        ),
        # What does not answer JSON at all is refused, saying what answered.
        (_answering(200, b"<html>hello</html>", b"text/html"), "not JSON", None),
        (_answering(200, b"{}", JSON, list_status=502), None, None),
        (_answering(200, b"{}", JSON, list_status=401), "the API key is refused", None),
    ],
    ids=["code-as-string", "no-message", "json-404-ping", "html", "json-502-list", "key-refused"],
)
def test_refuses_only_what_does_not_answer_json(app: Any, refused: str | None, note: str | None) -> None:
    with ServerThread(app) as server:
        result = check_service(server.base_url, "k", load_spec())
    if refused is None:
        assert result.refusal is None
    else:
        assert result.refusal is not None
        assert refused in result.refusal
    if note is not None:
        assert any(note in n for n in result.notes), result.notes
