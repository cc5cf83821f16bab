"""The spec's named request examples, sent to the mock, get the answer of the response example with the
same name (what example-driven tools such as Specmatic do): ids and model ids in examples are ones the
mock accepts."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from a2v_spec import Operation, Spec, load_spec

if TYPE_CHECKING:
    from tests.interop.conftest import Live

#: Pairs that need a task the example cannot create; their ids must still be well-formed (404, not 400).
NEEDS_STATE = {("getVideo", "finished")}


def _pairs(spec: Spec) -> list[tuple[str, str]]:
    found = []
    for op in spec.operations.values():
        raw = spec.at(op.pointer)
        names: set[str] = set()
        if "requestBody" in raw:
            names |= set(raw["requestBody"]["content"]["application/json"].get("examples", {}))
        for param in raw.get("parameters", []):
            names |= set(spec.resolve(param).get("examples", {}))
        found += [(op.operation_id, name) for name in sorted(names)]
    return found


def _expected(spec: Spec, op: Operation, name: str) -> tuple[int, Any]:
    raw = spec.at(op.pointer)
    for status, response in raw["responses"].items():
        media = spec.resolve(response).get("content", {}).get("application/json", {})
        if name in media.get("examples", {}):
            return int(status), media["examples"][name]["value"]
    raise AssertionError(f"{op.operation_id}: no response example named {name!r}")


def _request(spec: Spec, op: Operation, name: str) -> dict[str, Any]:
    raw = spec.at(op.pointer)
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for param in (spec.resolve(p) for p in raw.get("parameters", [])):
        examples = param.get("examples", {})
        chosen = examples.get(name) or (examples.get("success") if param.get("required") else None)
        if chosen is None:
            continue
        if param["in"] == "query":
            query[param["name"]] = chosen["value"]
        elif param["in"] == "header":
            headers[param["name"]] = str(chosen["value"])
    request: dict[str, Any] = {"params": query, "headers": headers}
    if "requestBody" in raw:
        examples = raw["requestBody"]["content"]["application/json"]["examples"]
        request["json"] = (examples.get(name) or examples["success"])["value"]
    return request


PAIRS = _pairs(load_spec())


def test_every_operation_with_input_has_paired_examples() -> None:
    spec = load_spec()
    with_input = {op.operation_id for op in spec.operations.values() if op.parameters or op.body_pointer}
    assert {op_id for op_id, _ in PAIRS} == with_input
    assert len(PAIRS) >= 7


@pytest.mark.parametrize(("operation_id", "name"), PAIRS)
def test_request_example_gets_its_paired_answer_from_the_mock(
    live: Live, operation_id: str, name: str
) -> None:
    spec = load_spec()
    op = spec.operation(operation_id)
    status, body = _expected(spec, op, name)
    request = _request(spec, op, name)
    token = f"examples-{uuid.uuid4().hex[:8]}"
    request["headers"]["Authorization"] = f"Bearer {token}"
    answer = httpx.request(op.method.upper(), live.base_url + op.path, timeout=30, **request)
    if (operation_id, name) in NEEDS_STATE:
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == 20002
        return
    assert answer.status_code == status, answer.text
    got = answer.json()
    assert got["code"] == body["code"]
    if status >= 400:
        assert got["message"] == body["message"]
