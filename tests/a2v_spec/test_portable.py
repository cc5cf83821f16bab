"""`openapi.yaml` stays in the OpenAPI 3.1 subset that mainstream generators and validators read.

Each rule here is one that a generator broke on (issues 11 and 21): boolean schemas, `const` (but for
an error's null `data`), `type: 'null'`, unmapped discriminators, variants only their `status` value
tells apart, missing operationIds, fields promised in prose but not `required`, error codes not tied to
their HTTP status, enum names used twice, facts only in `x-a2v-*` extensions, non-portable regexes and
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
    """`enum` of one instead of `const`, except an error's `data: {const: null}`: with `enum: [null]`
    openapi-generator's typescript-fetch crashed (NullPointerException) and its java generator wrote an
    enum with no constants; no generator reads `type: 'null'` alike."""
    found = [
        pointer
        for pointer, node in _schemas(spec)
        if isinstance(node, dict)
        and ("const" in node or node.get("type") == "null" or "null" in node.get("type", []))
    ]
    errors = {
        f"/components/schemas/{name}/properties/data" for name in spec.document["components"]["schemas"]
    }
    assert [pointer for pointer in found if pointer not in errors] == []
    for pointer in found:
        assert spec.at(pointer)["const"] is None, pointer


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
        # A named enum of one: Go's client (default options) decodes each variant strictly and keeps
        # the one that validates; only a named enum's decoder refuses the other statuses.
        status_ref = variant["properties"]["status"]["$ref"]
        named = spec.resolve({"$ref": status_ref})
        assert (named["type"], named["enum"]) == ("string", [status]), ref
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
            assert schema["properties"]["data"]["const"] is None, pointer
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
        if name == "TaskErrorCode" or re.fullmatch(r"ErrorCode\d{3}", name)
    }


def test_enum_names_are_unique_across_the_document(spec: Spec) -> None:
    """Go (and C) declare enum constants at package level: a name in two enums does not compile."""
    names: dict[str, str] = {}
    for schema_name, schema in spec.document["components"]["schemas"].items():
        if "enum" not in schema:
            continue
        varnames = schema.get("x-enum-varnames") or [str(value).upper() for value in schema["enum"]]
        assert len(varnames) == len(schema["enum"]), schema_name
        for varname in varnames:
            assert varname not in names, (varname, schema_name, names.get(varname))
            names[varname] = schema_name
    assert len(names) >= 30


def test_error_code_enums_carry_the_catalog_where_generic_tools_show_it(spec: Spec) -> None:
    """Names are `a2v_spec.ErrorCode`'s; a task code that is also a request error (1500) is
    `TASK_<name>` in `TaskErrorCode`, so that no name is used twice."""
    request_codes = {
        code for name, s in _enum_schemas(spec).items() if name != "TaskErrorCode" for code in s["enum"]
    }
    for name, schema in _enum_schemas(spec).items():
        codes = schema["enum"]
        expected = [
            f"TASK_{ErrorCode(code).name}"
            if name == "TaskErrorCode" and code in request_codes
            else ErrorCode(code).name
            for code in codes
        ]
        assert schema["x-enum-varnames"] == expected, name
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


LINE_BREAKS = ["\n", "\r", "\x85", "\u2028", "\u2029"]


def test_patterns_use_only_constructs_every_dialect_reads_alike(spec: Spec) -> None:
    """No lookaround (RE2 has none); a pattern ending in `$` (which Python and Java also match before a
    final line break) sits in a schema that refuses every line break anyway: its `not` pattern finds
    one, or its length is fixed (`minLength == maxLength`) so a trailing one makes it too long."""
    patterns = [(p, n) for p, n in walk(spec.document) if p.endswith("/pattern") and isinstance(n, str)]
    assert len(patterns) >= 5
    for pointer, pattern in patterns:
        outside_classes = re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern)
        for construct, why in PORTABLE_PATTERN_FORBIDS.items():
            assert construct not in outside_classes, f"{pointer}: {construct!r} ({why})"
        if pointer.endswith("/not/pattern"):
            assert re.fullmatch(r"\[\^[^\]]+\]", pattern), f"{pointer}: a `not` pattern is one negated class"
            continue
        assert pattern.startswith("^"), pointer
        assert pattern.endswith("$"), pointer
        assert outside_classes.count("$") == 1, pointer
        schema = spec.at(pointer.rsplit("/", 1)[0])
        forbidden = schema.get("not", {}).get("pattern")
        fixed = schema.get("minLength") is not None and schema.get("minLength") == schema.get("maxLength")
        assert fixed or (forbidden is not None and all(re.search(forbidden, brk) for brk in LINE_BREAKS)), (
            f"{pointer}: nothing refuses a trailing line break"
        )


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


def test_the_first_bad_request_example_is_generic(spec: Spec) -> None:
    """Prism (and other example-serving mocks) answer every refused request with the first example:
    it must not claim a particular field was wrong (issue 21: it said `audio_url` whatever was sent)."""
    examples = spec.document["components"]["responses"]["BadRequest"]["content"]["application/json"][
        "examples"
    ]
    first = next(iter(examples.values()))["value"]
    assert first["code"] == ErrorCode.INVALID_PARAMETER
    assert "'" not in first["message"], first["message"]
    assert len(examples) > 1
