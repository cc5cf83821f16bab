"""The stateful check against a live service whose answers move on while the machine explores."""

from __future__ import annotations

from itertools import count
from typing import TYPE_CHECKING, Any

from a2v_spec import ErrorCode
from contract_tests.requirement_ids import Req
from tests.contract_tests.faulty.base import Exchange, Rewriter, mock_app

if TYPE_CHECKING:
    from mock_server.config import Settings
    from tests.contract_tests.conftest import RunKit


def drifting(settings: Settings) -> Any:
    """The mock, but every third video.generate answers the documented 404 / 20001 (the model was
    withdrawn, then came back): the same request leads the machine to a link one time and not the next."""
    generates = count(1)

    def rewrite(exchange: Exchange) -> None:
        if exchange.path == "/v1/a2v/video.generate" and exchange.status == 200 and next(generates) % 3 == 0:
            exchange.status = 404
            code = ErrorCode.MODEL_NOT_FOUND
            exchange.set_json({"code": int(code), "message": "model_id is not known", "data": None})

    return Rewriter(mock_app(settings), rewrite)


def test_answers_that_move_on_end_the_exploration_not_the_check(
    run_kit: RunKit, mock_settings: Settings
) -> None:
    result = run_kit(drifting(mock_settings), only=[Req.STATEFUL_LINKS], seed=1, profile="full")
    report = result.report.text()
    assert "Flaky" not in report, report
    assert result.report.outcomes()[Req.STATEFUL_LINKS] == "passed", report
