"""openapi-zod-client's Zodios client, compiled with `tsc --strict` and run by node: the flow against a
live mock, every answer validated by the generated zod schemas (the Video `discriminatedUnion`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.interop.builds import check_flow, run_flow

if TYPE_CHECKING:
    from tests.interop.conftest import Client, Live


def test_generates_without_warnings(zod_client: Client) -> None:
    assert zod_client.generation.warnings == [], zod_client.generation.output


def test_keeps_the_rules_of_the_schemas(zod_client: Client) -> None:
    """The status literals make a discriminated union; URL and id rules are the spec's."""
    client = (zod_client.generation.out / "client.ts").read_text()
    assert 'z.discriminatedUnion("status", [' in client
    assert 'const VideoStatusPending = z.literal("pending");' in client
    assert "HttpUrl.max(2048).regex(" in client
    assert ".regex(/^[0-9a-f]{32}$/)" in client


def test_compiles_under_strict(zod_client: Client) -> None:
    assert zod_client.build.ok, zod_client.build.output


def test_the_flow_runs_against_the_mock(zod_client: Client, live: Live) -> None:
    check_flow(run_flow(zod_client.build, live, "zod-flow"), live.base_url)
