"""openapi-generator's `java` client (library `native`: Java's HttpClient and Jackson), compiled with
javac against Debian's jars: it runs the flow against a live mock (the Video oneOf deserialized into its
variant, typed error models, enum constants)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.interop.builds import check_flow, run_flow

if TYPE_CHECKING:
    from tests.interop.conftest import Client, Live


def test_generates_without_warnings(java_client: Client) -> None:
    assert java_client.generation.warnings == [], java_client.generation.output


def test_compiles_against_debian_jars(java_client: Client) -> None:
    assert java_client.build.ok, java_client.build.output
    enum = (
        java_client.generation.out / "src/main/java/org/openapitools/client/model/Error400.java"
    ).read_text()
    assert "ErrorCode400 code" in enum


def test_the_flow_runs_against_the_mock(java_client: Client, live: Live) -> None:
    check_flow(run_flow(java_client.build, live, "java-flow"), live.base_url)
