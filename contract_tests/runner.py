"""Running the kit programmatically: `run(KitOptions(...)) -> KitReport`.

The CLI and the project's own tests use this; it runs pytest on the kit's check modules with the plugin
configured by `KitOptions`, so the CLI, the plugin and programmatic runs share one code path.

Example:
    >>> from contract_tests.runner import run
    >>> from contract_tests.config import KitOptions
    >>> report = run(KitOptions(base_url="http://127.0.0.1:8000", api_key="k"))  # doctest: +SKIP
    >>> report.conforms                                                          # doctest: +SKIP
    True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from contract_tests.hooks import CHECKS_DIR, ProvidedOptions
from contract_tests.report import KitReport

if TYPE_CHECKING:
    from contract_tests.config import KitOptions

__all__ = ["KitRun", "run", "run_with_exit_code"]

#: An empty ini file so a run is not shaped by the pytest settings of whatever project it runs in.
_INI = Path(__file__).resolve().parent / "checks" / "kit.ini"


@dataclass
class KitRun:
    report: KitReport
    pytest_exit_code: int

    @property
    def exit_code(self) -> int:
        """0 conforms, 1 does not, 2 the run itself failed (usage error, interrupted, nothing ran)."""
        if self.pytest_exit_code in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
            return 2
        if self.pytest_exit_code == pytest.ExitCode.USAGE_ERROR:
            return 2
        if not self.report.items:
            return 2
        return 0 if self.report.conforms else 1


def run_with_exit_code(
    options: KitOptions, *, quiet: bool = True, extra_args: list[str] | None = None
) -> KitRun:
    report = KitReport()
    args = [
        str(CHECKS_DIR),
        "-c",
        str(_INI),
        "--rootdir",
        str(CHECKS_DIR),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "-W",
        "ignore::DeprecationWarning",
        "-o",
        "console_output_style=classic",
    ]
    if quiet:
        args += ["-p", "no:terminal", "-p", "no:warnings"]
    args += extra_args or []
    # The kit judges the implementation, not the libraries: their warnings must not fail a check, even
    # when the kit runs inside a test session that turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = pytest.main(args, plugins=[ProvidedOptions(options, report)])
    return KitRun(report, int(code))


def run(options: KitOptions, *, quiet: bool = True) -> KitReport:
    """Run the kit against `options.base_url` (or `options.app` in-process) and return its report."""
    return run_with_exit_code(options, quiet=quiet).report
