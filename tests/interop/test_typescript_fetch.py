"""openapi-generator's `typescript-fetch` client, compiled with `tsc --strict` and run by node: the flow
against a live mock (the Video union narrows on `status`, errors parse into their typed models)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.interop.builds import check_flow, run_flow

if TYPE_CHECKING:
    from tests.interop.conftest import Client, Live


def test_generates_without_warnings(typescript_fetch_client: Client) -> None:
    assert typescript_fetch_client.generation.warnings == [], typescript_fetch_client.generation.output


def test_compiles_under_strict(typescript_fetch_client: Client) -> None:
    assert typescript_fetch_client.build.ok, typescript_fetch_client.build.output


def test_the_flow_runs_against_the_mock(typescript_fetch_client: Client, live: Live) -> None:
    check_flow(run_flow(typescript_fetch_client.build, live, "tsf-flow"), live.base_url)
