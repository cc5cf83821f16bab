"""The kit does not fail a service that answers only what the upstream documents.

The real A2V service's documented answers carry `video_id`, `status` and, when finished, `video_url` (and
`mask_video_url` in the guide, not in the reference): the mock rewritten to leave out every optional field
of its answers (derived from the spec) and the optional `X-Total-Count` header answers just that. The kit
must blame it for nothing; each requirement that is only about an optional field is inconclusive, naming
the field; coverage lists every optional field as never seen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from a2v_spec import load_spec
from contract_tests.coverage import optional_fields
from contract_tests.requirement_ids import Req
from tests.contract_tests.faulty.base import Exchange, Rewriter, mock_app

if TYPE_CHECKING:
    from mock_server.config import Settings
    from tests.contract_tests.conftest import RunKit

#: The requirements only an optional field can show, and the field each one is missing.
NOT_JUDGED = {
    Req.LIFECYCLE_PROGRESS: "progress",
    Req.LIFECYCLE_LIST: "created_at",
    Req.FILE_MASK: "mask_video_url",
    Req.FILE_EXPIRES: "url_expires_at",
    Req.ERROR_AUDIO_404: "error",
    Req.ERROR_AUDIO_UNREACHABLE: "error",
    Req.ERROR_NOT_AUDIO: "error",
    Req.ERROR_AUDIO_TOO_LONG: "error",
}


def _strip(value: Any, parts: list[str]) -> None:
    """Remove the field at `parts` of a coverage path (`data[]`, `model_id`) wherever it is."""
    head, rest = parts[0], parts[1:]
    name, many = (head[:-2], True) if head.endswith("[]") else (head, False)
    if not isinstance(value, dict) or name not in value:
        return
    if not rest:
        del value[name]
        return
    for inner in value[name] if many and isinstance(value[name], list) else [value[name]]:
        _strip(inner, rest)


def upstream_shaped(settings: Settings) -> Any:
    """The mock answering only the fields the spec requires (what the upstream documents)."""
    spec = load_spec()
    optional = optional_fields(spec)
    by_path = {op.path: optional.get(op.operation_id, set()) for op in spec.operations.values()}

    def rewrite(exchange: Exchange) -> None:
        exchange.set_header("X-Total-Count", None)
        body = exchange.json()
        fields = by_path.get(exchange.path)
        if fields and isinstance(body, dict):
            for field in fields:
                _strip(body, field.split("."))
            exchange.set_json(body)

    return Rewriter(mock_app(settings), rewrite)


def test_the_rewrite_leaves_only_the_upstream_fields(mock_settings: Settings) -> None:
    """The control: what the kit meets below really is the upstream's shape."""
    body = {"code": 0, "message": "ok", "data": [{"video_id": "a" * 32, "status": "error", "progress": 3,
            "error": {"code": 10001, "message": "x"}, "created_at": 1}]}  # fmt: skip
    for field in optional_fields(load_spec())["listVideos"]:
        _strip(body, field.split("."))
    assert body["data"] == [{"video_id": "a" * 32, "status": "error"}]


@pytest.mark.slow
def test_kit_blames_an_upstream_shaped_service_for_nothing(run_kit: RunKit, mock_settings: Settings) -> None:
    result = run_kit(upstream_shaped(mock_settings), seed=1, profile="quick")
    report = result.report
    outcomes = report.outcomes()
    assert {rid for rid, o in outcomes.items() if o in ("failed", "blocked")} == set(), report.text()
    inconclusive = {rid for rid, o in outcomes.items() if o == "inconclusive"}
    assert inconclusive == set(NOT_JUDGED), report.text()
    results = report.requirements()
    for rid, field in NOT_JUDGED.items():
        assert any(field in note for note in results[rid].notes), (rid, results[rid].notes)
    assert report.coverage is not None
    for op, seen in report.coverage.as_dict()["optional_fields"].items():
        assert seen["seen"] == [], op
        assert seen["never_seen"], op
