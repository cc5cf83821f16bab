"""Plugins the partner tests need, until pyproject.toml loads them for the whole suite.

`pytest_plugins = [...]` is refused in a conftest below the root ("non-top-level conftest"), so this
registers them when pytest configures, if nothing has yet: `pytester` (its options get their defaults)
and the partner plugin (the `a2v_partner` entry point, once pyproject.toml declares it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if not manager.has_plugin("pytester"):
        manager.import_plugin("pytester")
        for name, default in (("runpytest", "inprocess"), ("lsof", False)):
            if not hasattr(config.option, name):
                setattr(config.option, name, default)
    import partner.plugin

    if not manager.is_registered(partner.plugin):
        manager.register(partner.plugin, "partner.plugin")


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester whose subprocess runs import this checkout's packages, whatever is installed."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return pytester
