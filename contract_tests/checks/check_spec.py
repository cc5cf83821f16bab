"""Layer 1: the spec the implementation is checked against is itself valid, and its examples conform."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import join
from contract_tests.evidence import observe
from contract_tests.requirement_ids import Req
from contract_tests.violations import ContractViolation

if TYPE_CHECKING:
    from collections.abc import Iterator

    from a2v_spec import Spec

requirement = pytest.mark.a2v_requirement


def iter_examples(node: Any, pointer: str = "") -> Iterator[tuple[str, str, Any]]:
    """(where, schema pointer, example value) for every example of the document."""
    if isinstance(node, list):
        for index, child in enumerate(node):
            yield from iter_examples(child, pointer + join(index))
        return
    if not isinstance(node, dict):
        return
    if "schema" in node and isinstance(node["schema"], dict | bool):
        if "example" in node:
            yield f"{pointer}/example", f"{pointer}/schema", node["example"]
        for name, example in (node.get("examples") or {}).items():
            if isinstance(example, dict) and "value" in example:
                yield pointer + join("examples", name), f"{pointer}/schema", example["value"]
    elif "example" in node and ("type" in node or "$ref" in node or "allOf" in node or "pattern" in node):
        yield f"{pointer}/example", pointer, node["example"]
    for key, child in node.items():
        if key in ("example", "examples"):
            continue
        yield from iter_examples(child, pointer + join(key))


@requirement(Req.SPEC_VALID)
def test_spec_is_valid_openapi(a2v_spec: Spec) -> None:
    try:
        from openapi_spec_validator import validate
    except ImportError:  # pragma: no cover - a dependency of the kit
        pytest.skip("openapi-spec-validator is not installed")
    try:
        validate(a2v_spec.document)
    except Exception as err:
        raise ContractViolation(Req.SPEC_VALID, f"{a2v_spec.path}: {err}"[:1500]) from err
    observe(Req.SPEC_VALID)


@requirement(Req.SPEC_EXAMPLES)
def test_spec_examples_conform(a2v_spec: Spec) -> None:
    problems: list[str] = []
    count = 0
    for where, schema_pointer, value in iter_examples(a2v_spec.document):
        count += 1
        errors = a2v_spec.schemas.errors(schema_pointer, value)
        problems.extend(f"{where}: {error}" for error in errors[:1])
        if not errors:
            observe(Req.SPEC_EXAMPLES)
    if problems:
        raise ContractViolation(
            Req.SPEC_EXAMPLES,
            f"{len(problems)} of {count} examples do not match their schema: " + "; ".join(problems[:5]),
            expected="every example validates against the schema beside it",
        )
    assert count > 0, "the spec has no examples at all"
