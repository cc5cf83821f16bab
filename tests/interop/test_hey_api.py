"""@hey-api/openapi-ts's SDK, compiled with `tsc --strict` and run by node: the flow against a live mock;
an error's `data` is typed `null` (with `enum: [null]` it was `never`) and its code is the literal union
of its status's catalog rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.interop.builds import check_flow, run_flow

if TYPE_CHECKING:
    from tests.interop.conftest import Client, Live


def test_generates_without_warnings(hey_api_client: Client) -> None:
    assert hey_api_client.generation.warnings == [], hey_api_client.generation.output


def test_error_data_is_typed_null(hey_api_client: Client) -> None:
    types = (hey_api_client.generation.out / "types.gen.ts").read_text()
    assert types.count("    data: null;") >= 9
    assert "data: never" not in types
    assert "export type ErrorCode404 = 1007 | 20001 | 20002;" in types


def test_compiles_under_strict(hey_api_client: Client) -> None:
    assert hey_api_client.build.ok, hey_api_client.build.output


def test_the_flow_runs_against_the_mock(hey_api_client: Client, live: Live) -> None:
    check_flow(run_flow(hey_api_client.build, live, "hey-flow"), live.base_url)
