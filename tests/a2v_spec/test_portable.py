"""`openapi.yaml` stays in the OpenAPI 3.1 subset that mainstream generators and validators read.

Each rule here is one that a generator broke on (issue 11): boolean schemas, `const`, `type: 'null'`,
unmapped discriminators, missing operationIds, fields promised in prose but not `required`, error
codes not tied to their HTTP status, facts only in `x-a2v-*` extensions, non-portable regexes and
unnamed or unpaired examples.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from a2v_spec import ErrorCode, Spec, Status, load_spec
from a2v_spec.pointer import walk
from a2v_spec.urls import PORTABLE_PATTERN_FORBIDS


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def _schemas(spec: Spec) -> list[tuple[str, Any]]:
    """Every schema object's pointer and node (under a `schema`, `schemas/*`, `properties/*`, ...)."""
    out: list[tuple[str, Any]] = []
    for pointer, node in walk(spec.document):
        parts = pointer.split("/")
        if len(parts) < 2:
            continue
        parent, key = parts[-2], parts[-1]
        if (
            key in ("schema", "items", "not")
            or parent in ("schemas", "properties")
            or parent in ("oneOf", "anyOf", "allOf")
        ):
            out.append((pointer, node))
    return out


def test_no_boolean_schemas(spec: Spec) -> None:
    booleans = [pointer for pointer, node in _schemas(spec) if isinstance(node, bool)]
    assert booleans == []


def test_no_const_and_no_null_type(spec: Spec) -> None:
    """`enum` of one instead of `const`; null data as `enum: [null]`, which every generator reads."""
    found = [
        pointer
        for pointer, node in _schemas(spec)
        if isinstance(node, dict)
        and ("const" in node or node.get("type") == "null" or "null" in node.get("type", []))
    ]
    assert found == []


def test_every_operation_and_callback_has_an_operation_id(spec: Spec) -> None:
    missing = [
        pointer
        for pointer, node in walk(spec.document)
        if pointer.split("/")[-1] in ("get", "post", "put", "patch", "delete")
        and isinstance(node, dict)
        and "responses" in node
        and "operationId" not in node
    ]
    assert missing == []
    callbacks = [
        p for p, n in walk(spec.document) if "/callbacks/" in p and isinstance(n, dict) and "operationId" in n
    ]
    assert callbacks, "the videoEnded callback has no operationId"


def test_video_variants_resolve_by_their_status_discriminator(spec: Spec) -> None:
    video = spec.document["components"]["schemas"]["Video"]
    mapping = video["discriminator"]["mapping"]
    assert video["discriminator"]["propertyName"] == "status"
    assert list(mapping) == [str(status) for status in Status]
    assert sorted(ref["$ref"] for ref in video["oneOf"]) == sorted(mapping.values())
    for status, ref in mapping.items():
        variant = spec.resolve({"$ref": ref})
        assert variant["properties"]["status"] == {"type": "string", "enum": [status]}, ref
        assert "status" in variant["required"], ref


@pytest.mark.parametrize(
    ("variant", "promised"),
    [
        ("VideoPending", {"video_id", "status"}),
        ("VideoInProgress", {"video_id", "status"}),
        ("VideoFinished", {"video_id", "status", "video_url"}),
        ("VideoFailed", {"video_id", "status"}),
    ],
)
def test_fields_the_prose_promises_are_required(spec: Spec, variant: str, promised: set[str]) -> None:
    schema = spec.document["components"]["schemas"][variant]
    assert promised <= set(schema["required"])


def test_success_envelopes_require_typed_data(spec: Spec) -> None:
    for op in spec.operations.values():
        pointer = spec.response_pointer(op, 200)
        assert pointer is not None, op.operation_id
        schema = spec.resolve(spec.at(pointer))
        assert set(schema["required"]) == {"code", "message", "data"}, op.operation_id
        assert spec.resolve(schema["properties"]["code"])["enum"] == [0], op.operation_id


def _error_statuses(spec: Spec) -> dict[int, list[str]]:
    """HTTP status -> pointers of the error response schemas the operations document for it."""
    found: dict[int, list[str]] = {}
    for op in spec.operations.values():
        for status in op.responses:
            if status.isdigit() and int(status) >= 400:
                pointer = spec.response_pointer(op, int(status))
                assert pointer is not None
                found.setdefault(int(status), []).append(pointer)
    return found


def test_each_error_response_allows_exactly_the_catalog_codes_of_its_status(spec: Spec) -> None:
    statuses = _error_statuses(spec)
    assert set(statuses) >= {400, 401, 404, 429, 500}
    for status, pointers in statuses.items():
        rows = [code for code, row in spec.errors.items() if row.http_status == status]
        for pointer in pointers:
            schema = spec.resolve(spec.at(pointer))
            assert schema["required"] == ["code", "message", "data"], pointer
            assert spec.resolve(schema["properties"]["code"])["enum"] == rows, (status, pointer)
            assert schema["properties"]["data"]["enum"] == [None], pointer
            wrong = next(code for code, row in spec.errors.items() if row.http_status not in (status, None))
            assert spec.schemas.errors(pointer, {"code": wrong, "message": "m", "data": None}), (
                status,
                wrong,
            )
            assert spec.schemas.errors(pointer, {"code": rows[0], "message": "m", "data": None}) == []


def _enum_schemas(spec: Spec) -> dict[str, dict[str, Any]]:
    return {
        name: schema
        for name, schema in spec.document["components"]["schemas"].items()
        if name == "ErrorCode" or name == "TaskErrorCode" or re.fullmatch(r"ErrorCode\d{3}", name)
    }


def test_error_code_enums_carry_the_catalog_where_generic_tools_show_it(spec: Spec) -> None:
    names = {int(code): code.name for code in ErrorCode}
    for name, schema in _enum_schemas(spec).items():
        codes = schema["enum"]
        assert schema["x-enum-varnames"] == [names[code] for code in codes], name
        assert schema["x-enum-descriptions"] == [
            f"{spec.errors[code].message}: {spec.errors[code].meaning}" for code in codes
        ], name
        for code in codes:
            assert f"| `{code}` | " in schema["description"], (name, code)
            assert spec.errors[code].meaning in schema["description"], (name, code)


def test_the_description_shows_the_catalog_and_the_limits(spec: Spec) -> None:
    description = spec.document["info"]["description"]
    for code, row in spec.errors.items():
        status = "none (task error)" if row.http_status is None else str(row.http_status)
        assert f"| `{code}` | {status} | {row.message} | {row.meaning} |" in description, code
    for name, value in spec.document["x-a2v-limits"].items():
        assert f"| `{name}` | {value} |" in description, name


def test_patterns_use_only_constructs_every_dialect_reads_alike(spec: Spec) -> None:
    patterns = [(p, n) for p, n in walk(spec.document) if p.endswith("/pattern") and isinstance(n, str)]
    assert len(patterns) >= 5
    for pointer, pattern in patterns:
        outside_classes = re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern)
        for construct, why in PORTABLE_PATTERN_FORBIDS.items():
            assert construct not in outside_classes, f"{pointer}: {construct!r} ({why})"
        assert pattern.startswith("^"), pointer
        assert pattern.endswith("(?![\\d\\D])"), pointer


def _examples(media: dict[str, Any]) -> dict[str, Any]:
    assert "example" not in media, "use named `examples`"
    return {name: example["value"] for name, example in media.get("examples", {}).items()}


def test_every_operation_and_error_has_named_examples(spec: Spec) -> None:
    for op in spec.operations.values():
        raw = spec.at(op.pointer)
        for status, response in raw["responses"].items():
            content = spec.resolve(response).get("content", {})
            for media in content.values():
                assert _examples(media), (op.operation_id, status)
        if op.body_pointer is not None:
            assert _examples(raw["requestBody"]["content"]["application/json"]), op.operation_id


def test_request_examples_are_paired_with_a_response_example_of_the_same_name(spec: Spec) -> None:
    pairs = 0
    for op in spec.operations.values():
        raw = spec.at(op.pointer)
        names: set[str] = set()
        if "requestBody" in raw:
            names |= set(_examples(raw["requestBody"]["content"]["application/json"]))
        for param in raw.get("parameters", []):
            names |= set(spec.resolve(param).get("examples", {}))
        answered = {
            name
            for response in raw["responses"].values()
            for media in spec.resolve(response).get("content", {}).values()
            for name in _examples(media)
        }
        assert names <= answered, (op.operation_id, names - answered)
        pairs += len(names)
    assert pairs >= 7
