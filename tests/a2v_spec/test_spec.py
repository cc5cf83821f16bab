"""The spec itself: valid, linted, complete, and faithful to the upstream reference."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from a2v_spec import Spec, load_spec, spec_path, walk

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "docs" / "upstream" / "a2v-reference.md"
RATE_LIMIT_HEADERS = ("X-Ratelimit-Total", "X-Ratelimit-Left", "X-Ratelimit-Reset")


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def test_the_bundled_spec_is_the_repository_spec() -> None:
    assert spec_path().read_bytes() == (ROOT / "openapi.yaml").read_bytes()


def test_spec_is_valid_openapi(spec: Spec) -> None:
    validate(spec.document)


def _redocly() -> str | None:
    local = ROOT / ".tools" / "node_modules" / ".bin" / "redocly"
    return str(local) if local.exists() else shutil.which("redocly")


def test_spec_has_no_errors_under_redocly_lint() -> None:
    redocly = _redocly()
    if redocly is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redocly is not installed; scripts/test installs it into .tools/")
        pytest.skip("redocly not installed (scripts/test installs it into .tools/)")
    run = subprocess.run(
        [redocly, "lint", "--format=json", str(ROOT / "openapi.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(run.stdout[run.stdout.index("{") :])
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=2)
    assert report["totals"]["errors"] == 0


def _upstream_examples() -> list[Any]:
    text = UPSTREAM.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    # The upstream page has a trailing comma in one example; JSON does not allow it, clients ignore it.
    return [json.loads(re.sub(r",(\s*[}\]])", r"\1", block)) for block in blocks]


def test_upstream_reference_has_the_four_examples_we_check() -> None:
    assert len(_upstream_examples()) == 4


def test_upstream_examples_validate_against_the_spec(spec: Spec) -> None:
    character_list, generate_request, generate_response, video_get = _upstream_examples()
    # Upstream's fields keep their meaning; the contract's additions (required of a conforming service)
    # come from the spec's own finished example.
    ours = spec.at("/paths/~1v1~1a2v~1video.get/get/responses/200/content/application~1json/examples")
    video_get["data"] = {**ours["finished"]["value"]["data"], **video_get["data"], "status": "finished"}
    cases = [
        (spec.response_pointer(spec.operation("listCharacters"), 200), character_list),
        (spec.operation("generateVideo").body_pointer, generate_request),
        (spec.response_pointer(spec.operation("generateVideo"), 200), generate_response),
        (spec.response_pointer(spec.operation("getVideo"), 200), video_get),
    ]
    for pointer, example in cases:
        assert pointer is not None
        assert spec.schemas.errors(pointer, example) == [], (pointer, example)


def test_upstream_video_get_example_needs_a_status(spec: Spec) -> None:
    video_get = _upstream_examples()[3]
    pointer = spec.response_pointer(spec.operation("getVideo"), 200)
    assert pointer is not None
    assert spec.schemas.errors(pointer, video_get)


def test_character_fields_are_the_upstream_ones(spec: Spec) -> None:
    character = spec.document["components"]["schemas"]["Character"]
    upstream = _upstream_examples()[0]["data"][0]
    assert set(character["required"]) == set(upstream)


def _media_examples(document: Any) -> list[tuple[str, Any]]:
    """Every (schema pointer, example value) pair of a media type or parameter, anywhere in the spec."""
    found: list[tuple[str, Any]] = []
    for pointer, node in walk(document):
        if isinstance(node, dict) and "schema" in node and ("example" in node or "examples" in node):
            if "example" in node:
                found.append((f"{pointer}/schema", node["example"]))
            for example in node.get("examples", {}).values():
                found.append((f"{pointer}/schema", example["value"]))
    return found


def test_every_example_in_the_spec_conforms_to_its_schema(spec: Spec) -> None:
    examples = _media_examples(spec.document)
    assert len(examples) > 20
    for pointer, value in examples:
        assert spec.schemas.errors(pointer, value) == [], pointer


def test_schema_level_examples_conform(spec: Spec) -> None:
    for name, schema in spec.document["components"]["schemas"].items():
        if "example" in schema:
            assert spec.schemas.errors(f"/components/schemas/{name}", schema["example"]) == [], name


@pytest.mark.parametrize(
    ("operation_id", "method", "path", "needs_auth"),
    [
        ("listCharacters", "get", "/v1/a2v/character.list", True),
        ("generateVideo", "post", "/v1/a2v/video.generate", True),
        ("getVideo", "get", "/v1/a2v/video.get", True),
        ("listVideos", "get", "/v1/a2v/video.list", True),
        ("ping", "get", "/v1/ping", False),
        ("login", "post", "/v1/auth/account.login", False),
    ],
)
def test_operations_paths_and_auth(
    spec: Spec, operation_id: str, method: str, path: str, needs_auth: bool
) -> None:
    operation = spec.operation(operation_id)
    assert (operation.method, operation.path, operation.needs_auth) == (method, path, needs_auth)


def test_every_response_documents_the_rate_limit_headers(spec: Spec) -> None:
    for operation in spec.operations.values():
        responses = spec.document["paths"][operation.path][operation.method]["responses"]
        for status, response in responses.items():
            if status == "431":
                continue  # refused while the head is read, before any rate limit is counted
            response = spec.resolve(response)
            assert set(RATE_LIMIT_HEADERS) <= set(response.get("headers", {})), (
                operation.operation_id,
                status,
            )


def test_throttling_responses_carry_retry_after(spec: Spec) -> None:
    for name in ("TooManyRequests", "QueueFull"):
        assert "Retry-After" in spec.document["components"]["responses"][name]["headers"]


def test_generate_links_to_get_and_list(spec: Spec) -> None:
    links = spec.document["paths"]["/v1/a2v/video.generate"]["post"]["responses"]["200"]["links"]
    assert links["GetVideo"]["operationId"] == "getVideo"
    assert links["GetVideo"]["parameters"]["video_id"] == "$response.body#/data/video_id"
    assert links["ListVideos"]["operationId"] == "listVideos"


def test_statuses_are_the_upstream_names(spec: Spec) -> None:
    statuses = spec.document["components"]["schemas"]["VideoStatus"]["enum"]
    assert statuses == ["pending", "in_progressing", "finished", "error"]
