"""Fixtures of the scaled-out mock's tests: a fresh database, vhost and bucket on the machine's real
services (PostgreSQL, RabbitMQ; S3 served by moto), removed afterwards.

Without a service the tests that need it skip, except in CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from a2v_testkit.backing_services import (
    AMQP_URL,
    POSTGRES_URL,
    moto_server,
    nginx_binary,
    reachable,
    temp_bucket,
    temp_database,
    temp_vhost,
)

if TYPE_CHECKING:
    from collections.abc import Iterator


def _need(url: str, what: str) -> None:
    if not reachable(url):
        message = f"{what} is not reachable at {url}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    _need(POSTGRES_URL, "PostgreSQL")
    with temp_database() as dsn:
        yield dsn


@pytest.fixture
def broker_url() -> Iterator[str]:
    _need(AMQP_URL, "RabbitMQ")
    with temp_vhost() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str) -> Iterator[str]:
    with temp_bucket(s3_endpoint) as name:
        yield name


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def nginx_installed() -> None:
    """Debian's nginx, the balancer of these tests (scripts/install-scale-tools); skip, or fail in CI."""
    if nginx_binary() is None:
        message = "nginx is not installed (scripts/install-scale-tools)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
