"""`Prefer` with Prism's keys beside the mock's own: `code=` as an HTTP status, `example=NAME`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from a2v_spec import load_spec
from a2v_spec.pointer import resolve_pointer
from mock_server.api.scenario import parse_prefer
from tests.docs.blocks import ROOT

if TYPE_CHECKING:
    import httpx

GET = "/v1/a2v/video.get"
VIDEO = {"video_id": "7895cd9a63564367b0c7b06e6837b5c6"}


def spec_example(name: str) -> object:
    responses = resolve_pointer(load_spec().document, "/paths/~1v1~1a2v~1video.get/get/responses")
    return responses["200"]["content"]["application/json"]["examples"][name]["value"]


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ("code=1009", 429, 1009),  # the mock's own: a catalog code, with its status
        ("code=429", 429, 1009),  # Prism's: an HTTP status, with the catalog code that has it
        ("status=503", 503, 1010),  # the mock's own status key
        ("code=503", 503, 1010),
    ],
)
def test_code_is_a_catalog_code_or_prisms_http_status(
    client: httpx.Client, header: str, status: int, code: int
) -> None:
    answer = client.get(GET, params=VIDEO, headers={"Prefer": header})

    assert (answer.status_code, answer.json()["code"]) == (status, code)


@pytest.mark.parametrize(
    ("header", "name"),
    [("example=error", "error"), ("example=in_progressing", "in_progressing"), ("code=200", "finished")],
)
def test_example_answers_the_spec_example(client: httpx.Client, header: str, name: str) -> None:
    answer = client.get(GET, params=VIDEO, headers={"Prefer": header})

    assert answer.status_code == 200
    assert answer.json() == spec_example(name)
    assert "x-ratelimit-left" in answer.headers  # still passes through the whole request path


def test_an_unknown_example_lists_the_ones_there_are(client: httpx.Client) -> None:
    answer = client.get(GET, params=VIDEO, headers={"Prefer": "example=nope"})

    assert (answer.status_code, answer.json()["code"]) == (400, 1003)
    assert "its examples: finished, pending, in_progressing, error" in answer.json()["message"]


def test_parse_keeps_other_prefer_uses_apart() -> None:
    prefer = parse_prefer('return=minimal, example="error"; code=10001')

    assert prefer.example == "error"
    assert prefer.code == 10001
    assert prefer.status is None


def test_both_are_documented_side_by_side() -> None:
    text = (ROOT / "docs" / "mock_server.md").read_text(encoding="utf-8")
    assert "| the mock's key | Prism's key | effect |" in text
    assert "`example=NAME`" in text
