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
#: The answers the upstream guide shows (a copy of the shared reference notes).
ANSWERS = ROOT / "docs" / "upstream" / "a2v-answers.md"
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


def _json_blocks(path: Path) -> list[str]:
    return re.findall(r"```json\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _upstream_examples() -> list[Any]:
    """The reference page's four JSON blocks, as written.

    The page has a trailing comma in one example; JSON does not allow it, clients ignore it: that comma
    is the only thing removed."""
    return [json.loads(re.sub(r",(\s*[}\]])", r"\1", block)) for block in _json_blocks(UPSTREAM)]


def _guide_answers() -> list[Any]:
    """The guide's answers of `a2v-answers.md`, as written: a block is one JSON value, or one per line."""
    answers: list[Any] = []
    for block in _json_blocks(ANSWERS):
        try:
            answers.append(json.loads(block))
        except json.JSONDecodeError:
            answers.extend(json.loads(line) for line in block.splitlines() if line.strip())
    return answers


def test_upstream_reference_has_the_four_examples_we_check() -> None:
    assert len(_upstream_examples()) == 4


def test_the_guide_shows_five_answers() -> None:
    """video.generate, video.get once per status (in progress, finished, error) and video.list."""
    assert len(_guide_answers()) == 5
    statuses = [answer["data"].get("status") for answer in _guide_answers()[:4]]
    assert statuses == ["pending", "in_progressing", "finished", "error"]


def test_upstream_examples_validate_against_the_spec(spec: Spec) -> None:
    """The reference page's answers, unmodified but for the `status` its video.get answer lacks."""
    character_list, generate_request, generate_response, video_get = _upstream_examples()
    video_get["data"]["status"] = "finished"
    cases = [
        (spec.response_pointer(spec.operation("listCharacters"), 200), character_list),
        (spec.operation("generateVideo").body_pointer, generate_request),
        (spec.response_pointer(spec.operation("generateVideo"), 200), generate_response),
        (spec.response_pointer(spec.operation("getVideo"), 200), video_get),
    ]
    for pointer, example in cases:
        assert pointer is not None
        assert spec.schemas.errors(pointer, example) == [], (pointer, example)


def test_the_guides_answers_validate_as_written(spec: Spec) -> None:
    generate, *videos, listed = _guide_answers()
    cases = [
        ("generateVideo", generate),
        *(("getVideo", video) for video in videos),
        ("listVideos", listed),
    ]
    for operation_id, answer in cases:
        pointer = spec.response_pointer(spec.operation(operation_id), 200)
        assert pointer is not None
        assert spec.schemas.errors(pointer, answer) == [], (operation_id, answer)


def test_the_guides_answers_are_the_upstream_shapes() -> None:
    """What the test above validates is what upstream documents: no field of the contract's own."""
    generate, in_progress, finished, failed, listed = _guide_answers()
    assert set(generate["data"]) == {"video_id", "status"}
    assert set(in_progress["data"]) == set(failed["data"]) == {"video_id", "status"}
    assert set(finished["data"]) == {"video_id", "status", "video_url", "mask_video_url"}
    assert isinstance(listed["data"], list)
    assert [set(item) for item in listed["data"]] == [
        set(in_progress["data"]),
        set(finished["data"]),
        set(failed["data"]),
    ]


def test_upstream_video_get_example_needs_a_status(spec: Spec) -> None:
    video_get = _upstream_examples()[3]
    pointer = spec.response_pointer(spec.operation("getVideo"), 200)
    assert pointer is not None
    assert spec.schemas.errors(pointer, video_get)


@pytest.mark.parametrize(
    ("variant", "upstream"),
    [
        ("VideoPending", {"video_id", "status"}),
        ("VideoInProgress", {"video_id", "status"}),
        ("VideoFinished", {"video_id", "status", "video_url"}),
        ("VideoFailed", {"video_id", "status"}),
    ],
)
def test_a_video_requires_only_what_upstream_always_sends(
    spec: Spec, variant: str, upstream: set[str]
) -> None:
    """The contract's other fields are optional (typed, with their rules when present): required, they
    would fail the real service. `mask_video_url` too: the reference's finished answer has none."""
    assert set(spec.document["components"]["schemas"][variant]["required"]) == upstream


def test_generate_requires_only_the_video_id(spec: Spec) -> None:
    """The reference's generate answer has no `status`; the guide's has one."""
    assert spec.document["components"]["schemas"]["GenerateResult"]["required"] == ["video_id"]


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
