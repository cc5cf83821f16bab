"""The kit's checks, collected by the plugin only when it is active (files are `check_*.py`, so a
plain pytest run never collects them). Each test names the requirement ids it verifies with
`@pytest.mark.a2v_requirement(...)`.

One module per layer (spec, fuzz, stateful, api, lifecycle, files, callbacks); what they share is in
`support.py`, and no check module imports another.
"""
