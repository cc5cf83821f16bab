"""openapi-generator's `go` client, default options, built offline with Debian's Go packages: it runs
the flow against a live mock (the Video oneOf told apart by strict decoding and the named status enums,
typed error models and enum constants)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.interop.builds import check_flow, run_flow

if TYPE_CHECKING:
    from tests.interop.conftest import Client, Live


def test_generates_without_warnings(go_client: Client) -> None:
    assert go_client.generation.warnings == [], go_client.generation.output


def test_builds_offline_with_debian_packages(go_client: Client) -> None:
    """No enum constant is declared twice and every pattern compiles in RE2 (`go vet` would not catch
    the latter: validator.v2 compiles the patterns when it first checks a value)."""
    assert go_client.build.ok, go_client.build.output
    assert "gopkg.in/validator.v2" in (go_client.generation.out / "vendor" / "modules.txt").read_text()


def test_the_flow_runs_against_the_mock(go_client: Client, live: Live) -> None:
    check_flow(run_flow(go_client.build, live, "go-flow"), live.base_url)
