"""Throwaway backing services for tests and benchmarks of the scaled-out mock.

Each helper makes a resource with a random name on the machine's real service and removes it on exit:

    temp_database()   a PostgreSQL database (server: $A2V_TEST_POSTGRES, default postgres@127.0.0.1:5432)
    temp_vhost()      a RabbitMQ vhost, made with rabbitmqctl ($A2V_TEST_AMQP, default guest@127.0.0.1:5672)
    moto_server()     an S3 endpoint: moto's standalone server on a free 127.0.0.1 port (the one emulation)
    temp_bucket()     a bucket on an S3 endpoint, emptied and deleted on exit
    nginx()           Debian's nginx in front of replicas, with docs/deploy.md's proxy headers

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

from a2v_testkit import free_port, serving

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = [
    "AMQP_URL",
    "POSTGRES_URL",
    "S3_ENV",
    "S3_KEYS",
    "Cluster",
    "free_port",
    "moto_server",
    "nginx",
    "nginx_binary",
    "nginx_config",
    "reachable",
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
        args = [
            "mock_server.runtime.cli",
            "serve",
            "--config",
            str(self.config),
            "--port",
            str(port),
            *self.shared,
        ]
        process = spawn(args, log)
        base_url = f"http://127.0.0.1:{port}"
        self.replicas.append((process, base_url))
        wait_http(f"{base_url}/readyz", process, log)
        return base_url

    def start_worker(self, metrics: bool = False) -> subprocess.Popen[bytes]:
        args = [
            "mock_server.runtime.cli",
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


def nginx_binary() -> str | None:
    """Debian's nginx (`scripts/install-scale-tools`), or None when it is not installed."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def nginx_config(port: int, backends: list[str], tmp: Path, backup: list[str] | None = None) -> str:
    """The configuration docs/deploy.md recommends, on 127.0.0.1:`port`, with every path in `tmp`.

    The upstream gets nginx's default `Host` (the upstream block's name, `a2v_replicas`) and the
    client's address in `X-Forwarded-Host`/`-Port`/`-Proto`/`-For`, as a deployment sends them.
    `backup` servers get requests only when every other one has failed (a test that must know which
    replica the first request reaches)."""

    def server(url: str, extra: str = "") -> str:
        parts = urlsplit(url)
        return f"server {parts.hostname}:{parts.port}{extra};"

    servers = [server(url, " max_fails=1 fail_timeout=10s") for url in backends]
    servers += [server(url, " backup") for url in backup or []]
    user = "user root;" if os.geteuid() == 0 else ""  # workers write temp files in `tmp`, owner-only
    temp = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    upstream = "\n".join(f"        {line}" for line in servers)
    return f"""{user}
worker_processes 1;
daemon off;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
{temp}
    upstream a2v_replicas {{
{upstream}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 64m;
        location / {{
            proxy_pass http://a2v_replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_set_header X-Forwarded-Port $server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(backends: list[str], tmp: Path, backup: list[str] | None = None) -> Iterator[str]:
    """Debian's nginx in front of `backends` (round robin, one request at a time to the next), on a free
    127.0.0.1 port with its own configuration in `tmp`; yields its URL and stops it on exit."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed; scripts/install-scale-tools installs Debian's")
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = tmp / "nginx.conf"
    config.write_text(nginx_config(port, backends, tmp, backup))
    url = f"http://127.0.0.1:{port}"
    args = [binary, "-p", str(tmp), "-c", str(config), "-e", str(tmp / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
    with serving(args, ready=lambda: reachable(url, 0.2), name="nginx", timeout=30):
        yield url
