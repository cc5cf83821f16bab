"""Benchmark the mock server on 127.0.0.1, in one run beside a raw ASGI app serving the same bytes and
Prism 5 on the same spec. Prints figures only.

    .venv/bin/python benchmarks/server.py [--duration 5] [--connections 32] [--no-prism] [--no-renders]
        [--checkout before=/path/to/an/older/checkout ...]

Measures, with a load generator in a separate process (`wrk` when installed: `apt-get install wrk`,
which scripts/install-bench-tools does; else an asyncio+httpx generator started as a subprocess):
  1. requests/s, p50 and p99 of `character.list` and `video.get` (a finished video) at `--connections`,
     and p50/p99 at ONE kept-alive connection, for: the mock of this checkout, the mock of each
     `--checkout LABEL=PATH` (the same script, that checkout's code, one after the other in this run),
     a raw ASGI app on uvicorn+httptools answering the bytes the mock answered (the ceiling of any app on
     this server), and Prism (`.tools/node_modules/.bin/prism`, where installed);
  2. `video.get` p99 while two renders run (60 s audios, kept queued so two render for the whole run);
  3. seconds from submitting a 10 s audio to seeing it `finished` (polling every 10 ms).
Targets: (issue 19) character.list >= 50 % of the raw app's requests/s, p50 < 1 ms at one connection,
>= 3x Prism's requests/s; (issue 4) video.get p99 < 50 ms at 32 connections while two renders run; a
10 s audio finished within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from a2v_testkit import FileHost, free_port, speech_wav

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}


# --- load generation (always in another process) ------------------------------------------------


def run_load(url: str, connections: int, duration: float) -> dict[str, float]:
    """requests/s, p50, p99 (ms) and non-2xx count of GET `url`, measured by a separate process."""
    if shutil.which("wrk"):
        return _wrk(url, connections, duration)
    args = [sys.executable, __file__, "--loadgen", url, str(connections), str(duration)]
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=duration + 60)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _wrk(url: str, connections: int, duration: float) -> dict[str, float]:
    args = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {TOKEN}",
        url,
    ]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=duration + 60).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


async def _loadgen(url: str, connections: int, duration: float) -> dict[str, float]:
    latencies: list[float] = []
    bad = 0
    end = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=HEADERS, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal bad
            while (start := time.perf_counter()) < end:
                response = await client.get(url)
                latencies.append(time.perf_counter() - start)
                bad += not 200 <= response.status_code < 400

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50": pick(0.5), "p99": pick(0.99), "non2xx": float(bad)}


# --- servers -------------------------------------------------------------------------------------


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url, headers=HEADERS, timeout=2)
            return True
        time.sleep(0.25)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def start_mock(data_dir: Path, port: int, http: str, root: Path = ROOT) -> subprocess.Popen[bytes]:
    """`a2v-mock` of the checkout at `root` (its own code first on the path), logging as it does by
    default (a line per request, at `info`) into `mock.log` beside its data: what a user running it gets."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "bench.yaml"
    config.write_text(f"audio_hosts: [127.0.0.1]\nqueue_capacity: 256\nhttp: {http}\n")
    args = [
        sys.executable,
        "-m",
        "mock_server.runtime.cli",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
    ]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with (data_dir / "mock.log").open("ab") as log:
        return subprocess.Popen(
            [*args, "--config", str(config)],
            cwd=root,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )


def start_prism(port: int) -> subprocess.Popen[bytes] | None:
    prism = ROOT / ".tools" / "node_modules" / ".bin" / "prism"
    if not prism.exists():
        return None
    args = [str(prism), "mock", str(ROOT / "openapi.yaml"), "-h", "127.0.0.1"]
    return subprocess.Popen(
        [*args, "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def start_raw(port: int, answers: Path) -> subprocess.Popen[bytes]:
    """The raw ASGI app (`--raw-app`) on uvicorn+httptools, answering the bytes in `answers`."""
    args = [sys.executable, __file__, "--raw-app", str(port), str(answers)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)


def serve_raw(port: int, answers_file: str) -> None:
    """A raw ASGI app: for a known path, the status, head and body the mock answered; nothing else runs."""
    import uvicorn

    answers: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {}
    for path, (status, headers, body) in json.loads(Path(answers_file).read_text()).items():
        answers[path] = (status, [(k.encode(), v.encode()) for k, v in headers], body.encode())
    missing = (404, [(b"content-length", b"0")], b"")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, headers, body = answers.get(scope["path"], missing)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", log_level="warning", access_log=False)


def answers_of(client: httpx.Client, paths: dict[str, str]) -> dict[str, Any]:
    """What the mock answers to each of `paths` (name -> path with query): status, head, body."""
    kept = {"content-type", "content-length", "x-ratelimit-total", "x-ratelimit-left", "x-ratelimit-reset"}
    found: dict[str, Any] = {}
    for path in paths.values():
        response = client.get(path)
        headers = [(k, v) for k, v in response.headers.items() if k in kept]
        found[path.split("?", 1)[0]] = (response.status_code, headers, response.text)
    return found


def submit(client: httpx.Client, audio_url: str) -> str:
    body = {"model_id": "eva_a0008", "audio_url": audio_url}
    response = client.post("/v1/a2v/video.generate", json=body)
    response.raise_for_status()
    return str(response.json()["data"]["video_id"])


def until_finished(
    client: httpx.Client, video_id: str, poll: float = 0.01, timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        video: dict[str, Any] = client.get("/v1/a2v/video.get", params={"video_id": video_id}).json()["data"]
        if video["status"] in ("finished", "error"):
            return video
        time.sleep(poll)
    raise TimeoutError(f"{video_id} did not finish within {timeout} s")


def row(name: str, figures: dict[str, float] | None, note: str = "") -> str:
    if figures is None:
        return f"  {name:<44} {'-':>9} {'-':>9} {'-':>9}  {note}"
    extra = f"  non-2xx: {int(figures['non2xx'])}" if figures.get("non2xx") else ""
    return f"  {name:<44} {figures['rps']:>9.0f} {figures['p50']:>9.2f} {figures['p99']:>9.2f}{extra}  {note}"


Figures = dict[str, dict[str, float]]


def measure_server(base: str, paths: dict[str, str], connections: int, duration: float) -> Figures:
    """Each path at `connections`, then at one kept-alive connection (`NAME@1`)."""
    figures: Figures = {}
    for name, path in paths.items():
        run_load(f"{base}{path}", connections, 1)  # warm up
        figures[name] = run_load(f"{base}{path}", connections, duration)
    for name, path in paths.items():
        figures[f"{name}@1"] = run_load(f"{base}{path}", 1, duration)
    return figures


def measure_mock(
    label: str, root: Path, tmp: Path, audio_url: str, args: argparse.Namespace, renders: bool
) -> tuple[Figures, dict[str, Any], list[str], str]:
    """The mock of the checkout at `root`: its figures, the answers it gave (for the raw app), notes, and
    the path of the finished video it served."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mock = start_mock(tmp / label, port, args.http, root)
    notes: list[str] = []
    try:
        if not wait_until_up(f"{base}/v1/ping", mock, 120):
            raise RuntimeError(f"the mock of {root} did not start")
        client = httpx.Client(base_url=base, headers=HEADERS, timeout=30)
        time.sleep(2)  # let the render processes start (prewarm)
        video_id = submit(client, f"{audio_url}/one.wav")
        until_finished(client, video_id)
        paths = {
            "character.list": "/v1/a2v/character.list",
            "video.get": f"/v1/a2v/video.get?video_id={video_id}",
        }
        answers = answers_of(client, paths)
        figures = measure_server(base, paths, args.connections, args.duration)
        if renders:
            timings = []
            for _ in range(3):
                started = time.perf_counter()
                finished = until_finished(client, submit(client, f"{audio_url}/ten.wav"))
                timings.append(time.perf_counter() - started)
                assert finished["status"] == "finished", finished
            queued = [submit(client, f"{audio_url}/minute.wav") for _ in range(8)]
            time.sleep(0.5)
            figures["video.get, two renders running"] = run_load(
                f"{base}{paths['video.get']}", args.connections, args.duration
            )
            states = [client.get("/v1/a2v/video.get", params={"video_id": v}).json()["data"] for v in queued]
            done_during = sum(s["status"] == "finished" for s in states)
            running_after = sum(s["status"] == "in_progressing" for s in states)
            client.post("/__admin/reset", json={"tenant": TOKEN})
            notes.append(
                f"8 renders of 60 s audio queued first (2 render at a time): {done_during} finished"
                f" during the run, {running_after} still in progress after it"
            )
            notes.append(
                f"10 s audio, submit -> finished: {', '.join(f'{t:.2f}' for t in timings)} s"
                f" (median {statistics.median(timings):.2f} s)"
            )
        return figures, answers, notes, paths["video.get"]
    finally:
        stop(mock)


def measure_other(
    start: Any, paths: dict[str, str], args: argparse.Namespace, timeout: float
) -> Figures | None:
    port = free_port()
    process = start(port)
    if process is None:
        return None
    try:
        if not wait_until_up(f"http://127.0.0.1:{port}/v1/a2v/character.list", process, timeout):
            return None
        return measure_server(f"http://127.0.0.1:{port}", paths, args.connections, args.duration)
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-prism", action="store_true", help="leave Prism out")
    parser.add_argument("--no-renders", action="store_true", help="leave the render measurements out")
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="also measure the mock of another checkout (e.g. before=/tmp/a2v-083970b)",
    )
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's parser"
    )
    args = parser.parse_args()
    mocks = [("mock", ROOT)]
    for item in args.checkout:
        label, sep, path = item.partition("=")
        if not sep or not Path(path, "mock_server").is_dir():
            parser.error(f"--checkout takes LABEL=PATH of a checkout with mock_server/, got {item!r}")
        mocks.append((f"mock {label}", Path(path).resolve()))
    tool = "wrk" if shutil.which("wrk") else "python asyncio+httpx subprocess"
    runs = f"{args.connections} connections and 1, {args.duration:g} s a run"
    print(f"A2V mock benchmark, 127.0.0.1: {runs}, {tool}")
    try:
        import httptools  # noqa: F401

        parser_name = "httptools" if args.http in ("auto", "httptools") else "h11"
    except ImportError:
        parser_name = "h11"
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, uvicorn http: {parser_name}")
    print(f"load before the run: {os.getloadavg()[0]:.2f} (1 min)")

    results: dict[str, Figures | None] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="a2v-bench-") as tmp, FileHost() as audio:
        root = Path(tmp)
        for name, seconds in (("one.wav", 1.0), ("ten.wav", 10.0), ("minute.wav", 60.0)):
            audio.add(name, speech_wav(seconds), "audio/wav")
        answers: dict[str, Any] = {}
        video_path = ""
        for index, (label, checkout) in enumerate(mocks):
            renders = index == 0 and not args.no_renders
            measured, given, said, served = measure_mock(
                label.replace(" ", "-"), checkout, root, audio.base_url, args, renders
            )
            results[label] = measured
            notes += said
            video_path = video_path or served
            answers = answers or given
        answers_file = root / "answers.json"
        answers_file.write_text(json.dumps(answers))
        paths = {"character.list": "/v1/a2v/character.list", "video.get": "/v1/a2v/video.get"}
        results["raw ASGI app"] = measure_other(lambda port: start_raw(port, answers_file), paths, args, 30)
        prism_note = "Prism: skipped (--no-prism)"
        if not args.no_prism:
            prism_paths = {
                "character.list": "/v1/a2v/character.list",
                "video.get": "/v1/a2v/video.get?video_id=v_1",
            }
            results["prism"] = measure_other(start_prism, prism_paths, args, 180)
            prism_note = (
                "Prism: .tools/node_modules/.bin/prism mock openapi.yaml"
                if results["prism"]
                else "Prism: not installed in .tools (scripts/test installs it) or did not start"
            )

    print()
    print(f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name in ("character.list", "video.get"):
        for label, found in results.items():
            many = None if found is None else found[name]
            print(row(f"{name}  {label}, {args.connections} connections", many))
        for label, found in results.items():
            print(row(f"{name}  {label}, 1 connection", None if found is None else found[f"{name}@1"]))
    main_figures = results["mock"]
    assert main_figures is not None
    if "video.get, two renders running" in main_figures:
        print(row("video.get  mock, two renders running", main_figures["video.get, two renders running"]))
    print()
    for name in ("character.list", "video.get"):
        mine = main_figures[name]["rps"]
        for label, found in results.items():
            if label != "mock" and found is not None:
                print(f"  {name}: mock / {label} = {mine / found[name]['rps']:.2f}x requests/s")
    for line in notes:
        print(f"  {line}")
    print(f"  {prism_note}")
    print(f"load after the run: {os.getloadavg()[0]:.2f} (1 min)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--loadgen":
        result = asyncio.run(_loadgen(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        print(json.dumps(result))
        raise SystemExit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--raw-app":
        serve_raw(int(sys.argv[2]), sys.argv[3])
        raise SystemExit(0)
    raise SystemExit(main())
