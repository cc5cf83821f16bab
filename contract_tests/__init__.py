"""The A2V contract kit: checks any implementation of the A2V API against `openapi.yaml`.

Three ways in:

* `a2v-contract --base-url URL --api-key KEY` (see `contract_tests.cli`);
* the pytest plugin (`--a2v-base-url ...`, fixtures `a2v_client`, `a2v_spec`, `a2v_audio_server`, ...);
* `contract_tests.run(KitOptions(...)) -> KitReport` from Python.

The reference client (`A2VClient`, `AsyncA2VClient`) and its exceptions are exported here too.

Example:
    >>> from contract_tests import A2VClient, KitOptions, run   # doctest: +SKIP
"""

from __future__ import annotations

from contract_tests.client import A2VClient, AsyncA2VClient
from contract_tests.config import KitOptions
from contract_tests.errors import (
    A2VAuthError,
    A2VError,
    A2VNotFound,
    A2VProtocolError,
    A2VRateLimited,
    A2VRequestError,
    A2VServerError,
    A2VTimeout,
    A2VUnavailable,
)
from contract_tests.models import Character, Pong, TaskError, Tokens, Video, VideoPage
from contract_tests.report import KitReport, Outcome
from contract_tests.requirements import REQUIREMENTS, Requirement
from contract_tests.runner import run
from contract_tests.violations import ContractViolation, Violation

__all__ = [
    "REQUIREMENTS",
    "A2VAuthError",
    "A2VClient",
    "A2VError",
    "A2VNotFound",
    "A2VProtocolError",
    "A2VRateLimited",
    "A2VRequestError",
    "A2VServerError",
    "A2VTimeout",
    "A2VUnavailable",
    "AsyncA2VClient",
    "Character",
    "ContractViolation",
    "KitOptions",
    "KitReport",
    "Outcome",
    "Pong",
    "Requirement",
    "TaskError",
    "Tokens",
    "Video",
    "VideoPage",
    "Violation",
    "run",
]
