"""Throwaway backing services for tests and benchmarks of the scaled-out mock.

Each helper makes a resource with a random name on the machine's real service and removes it on exit:

    temp_database()   a PostgreSQL database (server: $A2V_TEST_POSTGRES, default postgres@127.0.0.1:5432)
    temp_vhost()      a RabbitMQ vhost, made with rabbitmqctl ($A2V_TEST_AMQP, default guest@127.0.0.1:5672)
    moto_server()     an S3 endpoint: moto's standalone server on a free 127.0.0.1 port (the one emulation)
    temp_bucket()     a bucket on an S3 endpoint, emptied and deleted on exit

Example::

    with temp_database() as dsn, temp_vhost() as broker, moto_server() as s3, temp_bucket(s3) as bucket:
        ...
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from a2v_testkit import ServerThread, free_port, serving

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from starlette.requests import Request

__all__ = [
    "AMQP_URL",
    "POSTGRES_URL",
    "S3_ENV",
    "S3_KEYS",
    "Cluster",
    "free_port",
    "moto_server",
    "reachable",
    "round_robin",
    "spawn",
    "temp_bucket",
    "temp_database",
    "temp_vhost",
    "wait_http",
]

POSTGRES_URL = os.environ.get("A2V_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("A2V_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
#: Credentials moto accepts (any); boto3 needs some. As environment variables, for child processes.
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
S3_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def reachable(url: str, timeout: float = 1.0) -> bool:
    """Whether something listens at the host and port of `url`."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=timeout):
            return True
    except OSError:
        return False


def _with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@contextlib.contextmanager
def temp_database(admin_url: str = POSTGRES_URL) -> Iterator[str]:
    """A new, empty database; yields its DSN and drops it (with its connections) on exit."""
    import psycopg

    name = f"a2v_test_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_path(admin_url, f"/{name}")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> None:
    tool = shutil.which("rabbitmqctl")
    if tool is None:
        raise RuntimeError("rabbitmqctl is not on PATH; it makes the test's vhost")
    subprocess.run([tool, "-q", *args], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def temp_vhost(amqp_url: str = AMQP_URL) -> Iterator[str]:
    """A new RabbitMQ vhost the URL's user may use; yields the broker URL for it, deletes it on exit."""
    name = f"a2v-test-{secrets.token_hex(6)}"
    user = urlsplit(amqp_url).username or "guest"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        yield _with_path(amqp_url, f"/{name}")
    finally:
        _rabbitmqctl("delete_vhost", name)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone S3 server as a child process on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with serving(args, ready=lambda: reachable(endpoint, 0.2), name="moto's S3 server", timeout=30):
        yield endpoint


@contextlib.contextmanager
def temp_bucket(endpoint: str | None = None) -> Iterator[str]:
    """A new bucket on the S3 `endpoint` (None: AWS's, from the environment); deleted on exit."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, **S3_KEYS)
    name = f"a2v-test-{secrets.token_hex(6)}"
    client.create_bucket(Bucket=name)
    try:
        yield name
    finally:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys})
        client.delete_bucket(Bucket=name)


def spawn(args: list[str], log: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `python -m <args>` (a worker or a replica) as a separate process logging to `log`."""
    env = {**os.environ, **S3_ENV, **(extra_env or {})}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT, env=env)


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:g} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


class Cluster:
    """API replicas (`a2v-mock serve`) and render workers (`a2v-mock worker`) as separate processes
    sharing one database, vhost and bucket prefix; `config` is the YAML file they all read."""

    def __init__(
        self, store: str, queue: str, files: str, s3_endpoint: str, config: Path, logs: Path
    ) -> None:
        self.shared = ["--store", store, "--queue", queue, "--files", files, "--s3-endpoint-url", s3_endpoint]
        self.config = config
        self.logs = logs
        self.replicas: list[tuple[subprocess.Popen[bytes], str]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.metrics_ports: list[int] = []

    def start_replica(self) -> str:
        port = free_port()
        log = self.logs / f"replica{len(self.replicas)}.log"
        args = ["mock_server.cli", "serve", "--config", str(self.config), "--port", str(port), *self.shared]
        process = spawn(args, log)
        base_url = f"http://127.0.0.1:{port}"
        self.replicas.append((process, base_url))
        wait_http(f"{base_url}/readyz", process, log)
        return base_url

    def start_worker(self, metrics: bool = False) -> subprocess.Popen[bytes]:
        args = [
            "mock_server.cli",
            "worker",
            "--config",
            str(self.config),
            *self.shared,
            "--log-level",
            "warning",
        ]
        if metrics:
            port = free_port()
            self.metrics_ports.append(port)
            args += ["--metrics-port", str(port)]
        log = self.logs / f"worker{len(self.workers)}.log"
        process = spawn(args, log)
        self.workers.append(process)
        if metrics:  # the worker serves metrics once it is built and warm, before it consumes
            wait_http(f"http://127.0.0.1:{self.metrics_ports[-1]}/metrics", process, log)
        return process

    @property
    def urls(self) -> list[str]:
        return [url for process, url in self.replicas if process.poll() is None]

    def check_alive(self) -> None:
        """Raise with its log when a process this cluster did not stop has died."""
        for i, process in enumerate(self.workers):
            if process.returncode is None and process.poll() is not None:
                raise AssertionError(
                    f"worker {i} died:\n{(self.logs / f'worker{i}.log').read_text()[-3000:]}"
                )

    def stop(self) -> None:
        processes = [p for p, _ in self.replicas] + self.workers
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def round_robin(backends: list[str]) -> Iterator[str]:
    """A load balancer for tests: each request goes to the next backend in turn (not each connection),
    with the client's `Host` passed on so the URLs a replica builds point at the balancer."""
    import itertools

    import httpx
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    turn = itertools.cycle(backends)
    clients: list[httpx.AsyncClient] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=120, follow_redirects=False, trust_env=False) as client:
            clients.append(client)
            yield

    hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}

    async def forward(request: Request) -> Response:
        upstream = next(turn)
        url = f"{upstream}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in hop]
        answer = await clients[0].request(request.method, url, headers=headers, content=await request.body())
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in hop]
        response = Response(answer.content, status_code=answer.status_code)
        # A HEAD answer has no body but keeps the length the replica announced.
        head = request.method == "HEAD"
        length = answer.headers.get("content-length", "0") if head else len(answer.content)
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept] + [
            (b"content-length", str(length).encode())
        ]
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)
    with ServerThread(app, lifespan="on", name="a2v-round-robin") as server:
        yield server.base_url
