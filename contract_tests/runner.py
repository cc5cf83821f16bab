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

import contextlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from contract_tests.hooks import CHECKS_DIR, ProvidedOptions
from contract_tests.report import KitReport

if TYPE_CHECKING:
    from collections.abc import Iterator

    from contract_tests.config import KitOptions

__all__ = ["KitRun", "run", "run_with_exit_code"]

#: An empty ini file so a run is not shaped by the pytest settings of whatever project it runs in.
_INI = Path(__file__).resolve().parent / "checks" / "kit.ini"
_NO_AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


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
        # The kit's own plugin only (its checks call hypothesis and schemathesis directly): see
        # `_only_named_plugins`.
        "-p",
        "contract_tests.plugin",
        "-p",
        "no:cacheprovider",
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
    with warnings.catch_warnings(), _only_named_plugins():
        warnings.simplefilter("ignore")
        code = pytest.main(args, plugins=[ProvidedOptions(options, report)])
    return KitRun(report, int(code))


@contextlib.contextmanager
def _only_named_plugins() -> Iterator[None]:
    """No pytest plugin the environment happens to have installed joins a run of the kit.

    Autoloaded plugins (randomly, xdist, timeout, ...) would reorder, spread or cut the checks; and pytest
    rewrites the asserts of every module of every package that ships one (hypothesis, schemathesis, this
    project...), hundreds of modules, seconds of a quick run where bytecode is not cached.
    """
    before = os.environ.get(_NO_AUTOLOAD)
    os.environ[_NO_AUTOLOAD] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(_NO_AUTOLOAD, None)
        else:
            os.environ[_NO_AUTOLOAD] = before


def run(options: KitOptions, *, quiet: bool = True) -> KitReport:
    """Run the kit against `options.base_url` (or `options.app` in-process) and return its report."""
    return run_with_exit_code(options, quiet=quiet).report
