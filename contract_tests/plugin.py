"""The kit as a pytest plugin (entry point `pytest11: a2v_contract`): its hooks and its fixtures.

Inert unless `--a2v-base-url` is given (or a programmatic run passes `KitOptions`): then it collects
the kit's check modules (`contract_tests/checks/check_*.py`), selects them with `--a2v-only` and
`--a2v-skip`, and turns their outcomes into a verdict per requirement (`contract_tests.report`).

    contract_tests.hooks      options, collection, selection, outcomes -> report
    contract_tests.fixtures   a2v_options, a2v_spec, a2v_client, a2v_audio, a2v_finished_task, ...
    contract_tests.stash      the typed keys both keep their state under

Example, inside your own test suite::

    pytest --a2v-base-url http://127.0.0.1:8000 --a2v-api-key KEY --a2v-profile quick

and in your own tests, use the fixtures: `a2v_client`, `a2v_spec`, `a2v_audio_server`, `a2v_audio`...
"""

from __future__ import annotations

#: Registered with this module, so the one entry point brings both (pytest reads it from any plugin).
pytest_plugins = ["contract_tests.hooks", "contract_tests.fixtures"]
