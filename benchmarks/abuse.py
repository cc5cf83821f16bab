"""Abuse benchmark: the mock's memory and other tenants' latency while one tenant attacks it.

    .venv/bin/python benchmarks/abuse.py [--quick]

Starts `a2v-mock` in keyed mode (a shared sandbox) as its own process, on 127.0.0.1, with a loopback
hostile host, and for each attack of issue 10 prints the server's RSS (MB, from /proc) before, at its
peak during, and settled 3 s after:
  1. a callback receiver answering a 1.5 GB body;
  2. 300 requests with distinct 1 MB bearer tokens, then one 64 MB header;
  3. 40 concurrent audio downloads of a gzip body that inflates to 1 GiB;
  4. a 300 MB body to an admin endpoint;
  5. two 200 MB uploads to `/__admin/uploads` (issue 22: were read whole);
and for the queue flood (one tenant submitting 64 generates with `Prefer: duration=20`), another
tenant's `video.get` p50/p99 beside an idle baseline, and whether its generate is accepted.
Issue 22's rows follow:
  - whether the journal shows a login's password or issued tokens (target: none);
  - a keyed mock without an admin key: what its admin API answers nobody and a tenant (target: 403);
  - RSS for 10,000 unsigned file URLs with 15 KB names, and (open mode) 10,000 accepted 15 KB tokens;
  - start-up failures: a corrupt database, two servers at once (exit 2, one line), `/readyz` (503);
  - the task message for a refused address and for a name that does not resolve (target: the same);
  - 50 deliveries of one tenant to a receiver trickling a header byte every 2 s: another tenant's
    delivery time (target: under 2 s), the flooder's sockets (at most 4), attempts ended after 30 s;
  - 16 never-answering audio URLs of one tenant: another tenant's sample task time beside idle
    (target: within 2 s of idle), and the flooder's downloads open at once (at most 4 of 8 slots).
Targets (issue 10): RSS settles within 50 MB of baseline and never exceeds 300 MB; the other tenant's
p99 stays under 50 ms and its generates are accepted. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from a2v_testkit import FileHost, Reply, Stream, free_port, speech_wav

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
KEYS = [f"tenant-{index:02d}" for index in range(48)]
VICTIM, ATTACKER = KEYS[0], KEYS[1]
#: Keyed mode serves the admin API only with an admin key (issue 22).
ADMIN = {"Authorization": "Bearer abuse-admin-key"}
PASSWORD = "abuse-password-do-not-show"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler:
    """Peak RSS of `pid`, sampled every 20 ms while the `with` block runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def gzip_bomb(inflated: int = 1 << 30) -> bytes:
    """A gzip body that inflates to `inflated` zero bytes, made without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    return b"".join([*parts, packer.flush()])


def _big_body(total: int) -> Iterator[bytes]:
    block = b" " * (1 << 20)
    for _ in range(total // len(block)):
        yield block


class Server:
    def __init__(self, data: Path, *, admin_key: bool = True, keyed: bool = True) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = data.parent / f"abuse-{self.port}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "api_keys": KEYS if keyed else [],
                    "admin_key": ADMIN["Authorization"].removeprefix("Bearer ") if admin_key else None,
                    "users": {"dev": PASSWORD},
                    "audio_hosts": ["127.0.0.1"],
                    "callback_hosts": ["127.0.0.1"],
                    "render_workers": 1,
                    "prewarm": False,
                    "log_level": "error",
                }
            )
        )
        args = ["--port", str(self.port), "--data-dir", str(data), "--config", str(config)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mock_server.runtime.cli", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/v1/ping", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            if time.monotonic() > deadline:
                raise SystemExit("a2v-mock did not start")

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


def generate(client: httpx.Client, audio_url: str, **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", {})
    body = {"model_id": "eva_a0008", "audio_url": audio_url, **extra}
    return client.post("/v1/a2v/video.generate", json=body, headers=headers)


def wait_ended(server: Server, key: str, ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    with server.client(key) as client:
        for video_id in ids:
            while time.monotonic() < deadline:
                data = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
                if data["status"] in ("finished", "error"):
                    break
                time.sleep(0.1)


def measure(server: Server, name: str, attack: Callable[[], str]) -> None:
    pid = server.process.pid
    before = rss_mb(pid)
    with Sampler(pid) as sampler:
        outcome = attack()
    time.sleep(3)
    settled = rss_mb(pid)
    peak = max(sampler.peak, settled)
    verdict = "ok" if peak <= 300 and settled - before <= 50 else "OVER TARGET"
    print(
        f"{name:<44} RSS before {before:6.1f}  peak {peak:6.1f}  settled {settled:6.1f} MB"
        f"  [{verdict}]  {outcome}",
        flush=True,
    )


def huge_callback(server: Server, host: FileHost) -> str:
    hook = host.route("/hook-1-5GB", Stream(chunks=(3 << 29) // 65536), methods=["POST"])
    audio = host.url("/half.wav")
    with server.client(KEYS[2]) as client:
        ids = [generate(client, audio, callback_url=hook).json()["data"]["video_id"] for _ in range(4)]
    wait_ended(server, KEYS[2], ids)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        records = httpx.get(
            f"{server.base}/__admin/callbacks", params={"tenant": KEYS[2]}, headers=ADMIN
        ).json()["data"]
        if len(records) == 4 and all(r["state"] in ("delivered", "failed") for r in records):
            return "deliveries: " + ",".join(sorted(r["state"] for r in records))
        time.sleep(0.1)
    return "deliveries did not end within 60 s"


def made_up_tokens(server: Server) -> str:
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for index in range(300):
            token = f"{index:03d}" + "x" * (1 << 20)
            status = client.get(
                "/v1/a2v/video.list", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            statuses[status] = statuses.get(status, 0) + 1
        try:
            huge = client.get("/v1/a2v/video.list", headers={"X-Big": "y" * (64 << 20)}).status_code
        except httpx.HTTPError as err:
            huge = type(err).__name__
    return f"statuses {statuses}; one 64 MB header: {huge}"


async def _bombs(server: Server, url: str) -> list[int]:
    async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:
        calls = [
            client.post(
                "/v1/a2v/video.generate",
                json={"model_id": "eva_a0008", "audio_url": url},
                headers={"Authorization": f"Bearer {KEYS[3 + index]}"},
            )
            for index in range(40)
        ]
        answers = await asyncio.gather(*calls)
    return [a.json()["data"]["video_id"] for a in answers]


def gzip_bombs(server: Server, host: FileHost, bomb: bytes) -> str:
    url = host.route("/bomb.wav", Reply(bomb, content_type="audio/wav", headers={"content-encoding": "gzip"}))
    ids = asyncio.run(_bombs(server, url))
    codes: dict[Any, int] = {}
    for index, video_id in enumerate(ids):
        with server.client(KEYS[3 + index]) as client:
            wait_ended(server, KEYS[3 + index], [video_id])
            data = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
            code = (data.get("error") or {}).get("code", data["status"])
            codes[code] = codes.get(code, 0) + 1
    return f"{len(bomb) / 1e6:.1f} MB gzip -> 1 GiB; task codes {codes}"


def admin_body(server: Server) -> str:
    response = httpx.post(
        f"{server.base}/__admin/reset", content=_big_body(300 << 20), headers=ADMIN, timeout=120
    )
    return f"answer {response.status_code}/{response.json()['code']}"


def admin_uploads(server: Server) -> str:
    """Two 200 MB uploads, one declared and one streamed: refused at `max_audio_bytes`, never held."""
    answers = []
    for declared in (True, False):
        body = b" " * (200 << 20) if declared else _big_body(200 << 20)
        try:
            response = httpx.post(
                f"{server.base}/__admin/uploads",
                params={"name": "big.wav"},
                content=body,
                headers=ADMIN,
                timeout=120,
            )
            answers.append(f"{response.status_code}/{response.json()['code']}")
        except httpx.HTTPError as err:  # the mock hung up on the rest of the body
            answers.append(type(err).__name__)
        del body
    return "answers " + ", ".join(answers)


def admin_without_key(data: Path) -> None:
    """Keyed mode without an admin key: the admin API must answer nobody (not even a tenant's key)."""
    server = Server(data, admin_key=False)
    try:
        answers = []
        for who, headers in (("no token", {}), ("a tenant key", {"Authorization": f"Bearer {VICTIM}"})):
            for method, path in (("GET", "/__admin/tasks"), ("POST", "/__admin/reset")):
                response = httpx.request(method, f"{server.base}{path}", headers=headers, timeout=30)
                answers.append(
                    f"{method} {path} with {who}: {response.status_code}/{response.json()['code']}"
                )
    finally:
        server.stop()
    served = [a for a in answers if a.endswith("/0")]
    print(
        f"{'keyed mode, no admin key: admin API':<44} {'; '.join(answers)}"
        f"  [{'ok' if not served else 'OPEN'}]",
        flush=True,
    )


def made_up_file_urls(server: Server) -> str:
    """10,000 unsigned file URLs with 15 KB names (each a new cache key before issue 22)."""
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=server.base, timeout=60) as client:
        for index in range(10_000):
            name = f"videos/{index:05d}{'n' * 15_000}.mp4"
            params = {"Expires": str(4_000_000_000 + index), "Signature": "x"}
            status = client.get(f"/files/{name}", params=params).status_code
            statuses[status] = statuses.get(status, 0) + 1
    return f"statuses {statuses}"


def open_mode_tokens(data: Path) -> None:
    """An open-mode mock: 10,000 accepted tokens of 15 KB (each kept whole before issue 22)."""
    server = Server(data, keyed=False)
    try:

        def attack() -> str:
            statuses: dict[int, int] = {}
            with httpx.Client(base_url=server.base, timeout=60) as client:
                for index in range(10_000):
                    token = f"{index:05d}" + "t" * 15_000
                    headers = {"Authorization": f"Bearer {token}"}
                    status = client.get("/v1/a2v/video.list", headers=headers).status_code
                    statuses[status] = statuses.get(status, 0) + 1
            return f"statuses {statuses}"

        measure(server, "open mode: 10,000 accepted 15 KB tokens", attack)
    finally:
        server.stop()


def _cli(data: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mock_server.runtime.cli", "--data-dir", str(data), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def start_up_failures(tmp: Path) -> None:
    """A corrupt `mock.sqlite3`, and two servers started at the same instant: exit status and lines of
    stderr of the one that cannot serve (target: 2 and one line each); `/readyz` once the database
    file of a serving mock is overwritten (target: 503)."""
    corrupt = tmp / "corrupt"
    corrupt.mkdir()
    (corrupt / "mock.sqlite3").write_bytes(b"junk" * 5000)
    run = _cli(corrupt, free_port())
    _, err = run.communicate(timeout=60)
    found = [f"corrupt database: exit {run.returncode}, {len(err.strip().splitlines())} line(s)"]
    shared, ports = tmp / "shared", [free_port(), free_port()]
    runs = [_cli(shared, port) for port in ports]
    deadline = time.monotonic() + 60
    while all(r.poll() is None for r in runs) and time.monotonic() < deadline:
        time.sleep(0.05)
    loser = next((r for r in runs if r.poll() is not None), None)
    if loser is None:
        found.append("two at once: neither refused within 60 s")
    else:
        _, err = loser.communicate()
        found.append(f"two at once: loser exit {loser.returncode}, {len(err.strip().splitlines())} line(s)")
        winner, port = next((r, p) for r, p in zip(runs, ports, strict=True) if r is not loser)
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with (shared / "mock.sqlite3").open("r+b") as handle:
            handle.write(b"\0" * 4096)
        found.append(
            f"/readyz after the file was overwritten: {httpx.get(f'{base}/readyz', timeout=10).status_code}"
        )
        winner.terminate()
        winner.communicate(timeout=30)
    print(f"{'start-up failures':<44} {'; '.join(found)}", flush=True)


def refusal_wording() -> None:
    """A keyed mock (in this process, name resolution stubbed: nothing leaves loopback): the task
    message for a name resolving to a private address and for a name that does not resolve (target:
    the same words, so a tenant learns nothing of the operator's resolver)."""
    from mock_server.tasks import egress
    from mock_server.testing import run_server

    async def stub(host: str, port: int) -> list[str]:
        if host == "private.example":
            return ["10.20.30.40"]
        raise OSError(f"{host} does not resolve (stub)")

    real, egress.resolve = egress.resolve, stub
    logging.getLogger("mock_server").setLevel(logging.ERROR)  # the in-process mock's task lines
    try:
        with run_server(api_keys=[VICTIM], render_workers=1, prewarm=False) as server:
            messages = {}
            with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {VICTIM}"}) as c:
                for name in ("private.example", "nowhere.example"):
                    video_id = generate(c, f"http://{name}/a.wav").json()["data"]["video_id"]
                    for _ in range(200):
                        data = c.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
                        if data["status"] == "error":
                            messages[name] = data["error"]["message"]
                            break
                        time.sleep(0.05)
    finally:
        egress.resolve = real
    same = len(set(messages.values())) == 1 and len(messages) == 2
    shown = "; ".join(f"{name}: {text!r}" for name, text in messages.items())
    print(
        f"{'refused address vs unresolvable name':<44} {shown}  [{'ok' if same else 'DIFFERENT'}]", flush=True
    )


class TrickleReceiver:
    """A raw loopback receiver (an ASGI server sends its head at once): reads the request, then sends
    `HTTP/1.1 200 OK...` one byte every 2 s. Counts the connections it holds at once."""

    def __init__(self, *, silent: bool = False) -> None:
        import socket

        self.silent = silent  # read the request, then send nothing at all
        self.open = self.most = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: Any) -> None:
        with self._lock:
            self.open += 1
            self.most = max(self.most, self.open)
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 10_000:
                readable, _, _ = select.select([conn], [], [], 2.0)  # the mock hung up: count it now
                if self._stop.is_set() or (readable and not conn.recv(1)):
                    break
                if not self.silent:
                    conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()
            with self._lock:
                self.open -= 1

    def close(self) -> None:
        self._stop.set()
        self._server.close()


def slow_callbacks(server: Server, host: FileHost) -> None:
    """50 deliveries of one tenant to a receiver sending a header byte every 2 s, then another
    tenant's delivery: its time, the flooder's sockets at most, and the flood's attempts after 30 s
    (targets: the other's delivery within 2 s, at most 4 sockets, every attempt ended within
    `callback_timeout_seconds`)."""
    slow = TrickleReceiver()
    hook = host.route("/hook-ok", Reply(b"", status=204), methods=["POST"])
    sample = f"{server.base}/samples/short.wav"
    fail = {"Prefer": "outcome=error, error_code=10003"}  # ends each task at once, no render
    try:
        with server.client(KEYS[44]) as flooder, server.client(KEYS[45]) as other:
            for _ in range(50):
                generate(flooder, sample, callback_url=slow.url, headers=fail)
            time.sleep(2)
            started = time.monotonic()
            own = generate(other, sample, callback_url=hook, headers=fail).json()["data"]["video_id"]
            took = float("nan")
            while time.monotonic() - started < 60:
                rows = httpx.get(
                    f"{server.base}/__admin/callbacks", params={"video_id": own}, headers=ADMIN
                ).json()["data"]
                if rows and rows[0]["state"] == "delivered":
                    took = time.monotonic() - started
                    break
                time.sleep(0.05)
            time.sleep(max(0.0, 30 - (time.monotonic() - started)))
            rows = httpx.get(
                f"{server.base}/__admin/callbacks", params={"tenant": KEYS[44]}, headers=ADMIN
            ).json()["data"]
    finally:
        slow.close()
    attempted = sum(1 for r in rows if r["attempts"] > 0)
    errors = sorted({str(r["last_error"]) for r in rows if r["last_error"]})
    verdict = "ok" if took <= 2 and slow.most <= 4 and attempted > 0 else "OVER TARGET"
    print(
        f"{'50 callbacks to a 1 byte / 2 s receiver':<44} other tenant's delivery {took:.2f} s; flooder's "
        f"sockets at most {slow.most}; after 30 s {attempted}/50 attempted (errors {errors})  [{verdict}]",
        flush=True,
    )


def _sample_seconds(server: Server, key: str) -> float:
    """Seconds from `video.generate` to `finished` of one task on the mock's own sample."""
    with server.client(key) as client:
        started = time.monotonic()
        video_id = generate(client, f"{server.base}/samples/short.wav").json()["data"]["video_id"]
        wait_ended(server, key, [video_id], timeout=120)
        return time.monotonic() - started


def download_flood(server: Server) -> None:
    """Tenant A submits 16 tasks whose audio URLs never answer; tenant B's sample task time then,
    beside B's idle time (target: within 2 s of idle), and how many of A's downloads were open at
    once (at most half the 8 download slots)."""
    silent = TrickleReceiver(silent=True)
    flooder, other = KEYS[46], KEYS[47]
    try:
        _sample_seconds(server, other)  # the render worker's first job loads the character: not idle
        idle = _sample_seconds(server, other)
        with server.client(flooder) as client:
            statuses = [generate(client, f"{silent.url}?n={index}").status_code for index in range(16)]
        deadline = time.monotonic() + 30
        while silent.open < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        during = _sample_seconds(server, other)
        most = silent.most
    finally:
        silent.close()
    verdict = "ok" if during - idle <= 2 else "OVER TARGET"
    print(
        f"{'16 never-answering audio URLs of one tenant':<44} flood answers {sorted(set(statuses))}; other "
        f"tenant's sample task {idle:.2f} s idle, {during:.2f} s during the flood; flooder's downloads "
        f"open at most {most}  [{verdict}]",
        flush=True,
    )


def journal_secrets(server: Server) -> None:
    """Log in, then look for the password and the issued tokens in what the admin API shows."""
    with httpx.Client(base_url=server.base, timeout=30) as client:
        issued = client.post("/v1/auth/account.login", json={"username": "dev", "password": PASSWORD})
        tokens = issued.json()["data"]
        shown = client.get("/__admin/requests", params={"path": "/v1/auth/*"}, headers=ADMIN).text
    secrets = {"password": PASSWORD, "access": tokens["access_token"], "refresh": tokens["refresh_token"]}
    found = [name for name, value in secrets.items() if value in shown]
    print(
        f"{'journal after a login':<44} secrets shown: {', '.join(found) or 'none'}"
        f"  [{'ok' if not found else 'LEAKED'}]",
        flush=True,
    )


async def _gets(server: Server, video_id: str, seconds: float) -> list[float]:
    timings: list[float] = []
    headers = {"Authorization": f"Bearer {VICTIM}"}
    async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as client:

        async def worker() -> None:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                started = time.perf_counter()
                await client.get("/v1/a2v/video.get", params={"video_id": video_id})
                timings.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(4)))
    return timings


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def queue_flood(server: Server, host: FileHost, seconds: float) -> None:
    audio = host.url("/half.wav")
    with server.client(VICTIM) as victim:
        own = generate(victim, audio).json()["data"]["video_id"]
        wait_ended(server, VICTIM, [own])
        idle = asyncio.run(_gets(server, own, seconds))
        with server.client(ATTACKER) as attacker:
            statuses: dict[int, int] = {}
            for _ in range(64):
                status = generate(attacker, audio, headers={"Prefer": "duration=20"}).status_code
                statuses[status] = statuses.get(status, 0) + 1
        flood = asyncio.run(_gets(server, own, seconds))
        accepted = generate(victim, audio).status_code
    print(
        f"{'queue flood (64 generates, Prefer: duration=20)':<44} attacker answers {statuses}; "
        f"other tenant's video.get p50/p99 idle {_p(idle, 50):.1f}/{_p(idle, 99):.1f} ms, during flood "
        f"{_p(flood, 50):.1f}/{_p(flood, 99):.1f} ms; its generate answered {accepted}",
        flush=True,
    )


# --- connections held open (issue 22, item 6) ----------------------------------------------------------


def connection_flood(server: Server, count: int = 300) -> str:
    """`count` connections that send nothing and `count` that send a head one byte a second; how many
    the mock still holds after its head and idle limits (10 s, 5 s) have passed, and whether another
    client is answered meanwhile. Target: none held, the other client answered."""
    import socket

    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(count)]
    answered = 0
    try:
        started = time.monotonic()
        for conn in slow:
            conn.sendall(b"GET /v1/ping HTTP/1.1\r\n")
        while time.monotonic() - started < 12:
            for conn in slow:
                with contextlib.suppress(OSError):
                    conn.sendall(b"X")
            with contextlib.suppress(httpx.HTTPError):
                answered += httpx.get(f"{server.base}/v1/ping", timeout=2).status_code == 200
            time.sleep(1)
        held = 0
        for conn in idle + slow:
            conn.setblocking(False)
            try:
                held += conn.recv(1) != b""
            except BlockingIOError:
                held += 1  # nothing to read and not closed: still held
            except OSError:
                pass
    finally:
        for conn in idle + slow:
            conn.close()
    verdict = "ok" if held == 0 and answered else "OVER TARGET"
    return f"{held} of {2 * count} still open after 12 s; {answered} pings answered meanwhile [{verdict}]"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="shorter latency windows")
    parser.add_argument(
        "--only", metavar="ROW,...", help="run only these rows (names: see --list); default all"
    )
    parser.add_argument("--list", action="store_true", help="print the row names and stop")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else 5.0
    # The hostile host's own "socket.send() raised exception" when the mock hangs up on it, as it should.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="a2v-abuse-") as tmp, FileHost() as host:
        host.add("/half.wav", speech_wav(0.5), "audio/wav")
        data = Path(tmp)
        rows: dict[str, Callable[[Server], object]] = {
            "callback": lambda s: measure(
                s, "callback receiver answering 1.5 GB", lambda: huge_callback(s, host)
            ),
            "tokens": lambda s: measure(
                s, "300 x 1 MB bearer tokens, one 64 MB header", lambda: made_up_tokens(s)
            ),
            "gzip": lambda s: measure(
                s, "40 concurrent gzip bombs (1 GiB inflated)", lambda: gzip_bombs(s, host, gzip_bomb())
            ),
            "admin-body": lambda s: measure(s, "300 MB body to /__admin/reset", lambda: admin_body(s)),
            "connections": lambda s: measure(
                s, "300 idle + 300 slow-head connections", lambda: connection_flood(s)
            ),
            "uploads": lambda s: measure(s, "2 x 200 MB to /__admin/uploads", lambda: admin_uploads(s)),
            "journal": journal_secrets,
            "file-urls": lambda s: measure(
                s, "10,000 unsigned file URLs, 15 KB names", lambda: made_up_file_urls(s)
            ),
            "open-tokens": lambda s: open_mode_tokens(data / "data-open"),
            "start-up": lambda s: start_up_failures(data),
            "admin-off": lambda s: admin_without_key(data / "data-no-admin"),
            "refusals": lambda s: refusal_wording(),
            "slow-callbacks": lambda s: slow_callbacks(s, host),
            "download-flood": download_flood,
            "queue": lambda s: queue_flood(s, host, seconds),
        }
        if args.list:
            print(" ".join(rows))
            return
        chosen = list(rows) if not args.only else [name.strip() for name in args.only.split(",")]
        unknown = [name for name in chosen if name not in rows]
        if unknown:
            raise SystemExit(f"unknown row(s) {', '.join(unknown)}; rows: {' '.join(rows)}")
        server = Server(data / "data")
        try:
            print(
                f"a2v-mock pid {server.process.pid}, idle RSS {rss_mb(server.process.pid):.1f} MB", flush=True
            )
            for name in chosen:
                rows[name](server)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
