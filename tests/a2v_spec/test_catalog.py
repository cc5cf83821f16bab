"""The error catalog is complete, consistent with the schemas, and every error example obeys it."""

from __future__ import annotations

import pytest

from a2v_spec import Spec, load_spec
from a2v_spec.catalog import parse_catalog


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def test_upstream_codes_are_kept(spec: Spec) -> None:
    assert (spec.errors[1009].http_status, spec.errors[1009].message) == (429, "Too Many Request")
    assert spec.errors[10001].message == "File Not Found"


@pytest.mark.parametrize(
    ("code", "http_status"),
    [
        (1001, 401),  # missing or invalid token
        (1002, 401),  # expired token
        (1003, 400),  # invalid parameter
        (1010, 503),  # queue full
        (1500, 500),  # internal error
        (10002, None),  # audio unreachable
        (10003, None),  # audio not decodable
        (10004, None),  # audio too long
        (10005, None),  # audio too large
        (20001, 404),  # unknown model_id
        (20002, 404),  # unknown video_id
    ],
)
def test_catalog_has_what_a_client_must_tell_apart(spec: Spec, code: int, http_status: int | None) -> None:
    assert spec.errors[code].http_status == http_status


def test_error_code_enums_hold_exactly_the_catalog_rows_of_their_status(spec: Spec) -> None:
    """One `ErrorCode<status>` enum per HTTP status an operation documents, holding that status's rows.

    There is no enum of every code (it would repeat each name of these enums, which Go declares at
    package level); codes answered only outside the operations (signed-file downloads' 403 and 416,
    405 for a wrong method) are in the catalog and the description's table.
    """
    schemas = spec.document["components"]["schemas"]
    assert "ErrorCode" not in schemas
    enums = {
        int(name[len("ErrorCode") :]): schema["enum"]
        for name, schema in schemas.items()
        if name[9:].isdigit()
    }
    documented = {
        int(status) for op in spec.operations.values() for status in op.responses if status[:1] in "45"
    }
    assert set(enums) == documented
    for status, enum in enums.items():
        assert enum == [code for code, row in spec.errors.items() if row.http_status == status], status
    statuses = {row.http_status for row in spec.errors.values()} - {None}
    assert statuses - documented == {403, 405, 416}


def test_task_error_codes_are_the_task_rows_and_internal_error(spec: Spec) -> None:
    enum = spec.document["components"]["schemas"]["TaskErrorCode"]["enum"]
    expected = {code for code, row in spec.errors.items() if row.is_task_error} | {1500}
    assert set(enum) == expected


def test_every_catalog_row_says_what_and_when(spec: Spec) -> None:
    for row in spec.errors.values():
        assert all((row.message, row.meaning, row.when)), row


def test_every_error_response_has_an_example_whose_code_matches_its_status(spec: Spec) -> None:
    for name, response in spec.document["components"]["responses"].items():
        media = response["content"]["application/json"]
        examples = (
            [media["example"]] if "example" in media else [e["value"] for e in media["examples"].values()]
        )
        assert examples, name
        statuses = {
            int(status)
            for op in spec.operations.values()
            for status, ref in spec.document["paths"][op.path][op.method]["responses"].items()
            if ref.get("$ref") == f"#/components/responses/{name}"
        }
        for example in examples:
            row = spec.errors[example["code"]]
            assert row.http_status in statuses, (name, example["code"], statuses)


def test_duplicate_codes_are_refused() -> None:
    row = {"code": 1, "http_status": 400, "message": "m", "meaning": "x", "when": "y"}
    with pytest.raises(ValueError, match="lists code 1 twice"):
        parse_catalog([row, row])
