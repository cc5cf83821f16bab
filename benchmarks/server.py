"""Benchmark the mock server on 127.0.0.1, side by side with Prism 5 on the same spec. Prints figures only.

    .venv/bin/python benchmarks/server.py [--duration 5] [--connections 32] [--no-prism]

Measures, with a load generator in a separate process (`wrk` when installed, else an asyncio+httpx
generator started as a subprocess of this script):
  1. requests/s, p50 and p99 of `character.list` and `video.get` (a finished video), mock vs Prism;
  2. `video.get` p99 while two renders run (60 s audios, kept queued so two render for the whole run);
  3. seconds from submitting a 10 s audio to seeing it `finished` (polling every 10 ms).
Targets (issue 4): >= 3x Prism's requests/s on character.list; video.get p99 < 50 ms at 32 connections
while two renders run; a 10 s audio finished within 1 s.
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
        "-t2",
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


def start_mock(data_dir: Path, port: int, http: str) -> subprocess.Popen[bytes]:
    config = data_dir / "bench.yaml"
    config.write_text(f"audio_hosts: [127.0.0.1]\nlog_level: warning\nqueue_capacity: 256\nhttp: {http}\n")
    args = [
        sys.executable,
        "-m",
        "mock_server.cli",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir / "data"),
    ]
    return subprocess.Popen(
        [*args, "--config", str(config)], cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True
    )


def start_prism(port: int) -> subprocess.Popen[bytes] | None:
    if not shutil.which("npx"):
        return None
    args = ["npx", "--yes", "@stoplight/prism-cli@5", "mock", str(ROOT / "openapi.yaml"), "-h", "127.0.0.1"]
    return subprocess.Popen(
        [*args, "-p", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-prism", action="store_true", help="measure the mock alone")
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's parser"
    )
    args = parser.parse_args()
    tool = "wrk -t2" if shutil.which("wrk") else "python asyncio+httpx subprocess"
    print(f"A2V mock benchmark, 127.0.0.1: {args.connections} connections, {args.duration:g} s a run, {tool}")
    try:
        import httptools  # noqa: F401

        parser_name = "httptools" if args.http in ("auto", "httptools") else "h11"
    except ImportError:
        parser_name = "h11"
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, uvicorn http: {parser_name}")

    with tempfile.TemporaryDirectory(prefix="a2v-bench-") as tmp, FileHost() as audio:
        root = Path(tmp)
        for name, seconds in (("one.wav", 1.0), ("ten.wav", 10.0), ("minute.wav", 60.0)):
            audio.add(name, speech_wav(seconds), "audio/wav")
        audio_url = audio.base_url

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        mock = start_mock(root, port, args.http)
        prism: subprocess.Popen[bytes] | None = None
        try:
            if not wait_until_up(f"{base}/v1/ping", mock, 60):
                print("the mock server did not start")
                return 1
            client = httpx.Client(base_url=base, headers=HEADERS, timeout=30)
            time.sleep(2)  # let the render processes start (prewarm)
            video_id = submit(client, f"{audio_url}/one.wav")
            until_finished(client, video_id)

            timings = []
            for _ in range(3):
                started = time.perf_counter()
                finished = until_finished(client, submit(client, f"{audio_url}/ten.wav"))
                timings.append(time.perf_counter() - started)
                assert finished["status"] == "finished", finished

            get_url = f"{base}/v1/a2v/video.get?video_id={video_id}"
            ours = {
                "character.list": run_load(f"{base}/v1/a2v/character.list", args.connections, args.duration),
                "video.get": run_load(get_url, args.connections, args.duration),
            }

            renders = [submit(client, f"{audio_url}/minute.wav") for _ in range(8)]
            time.sleep(0.5)
            busy = run_load(get_url, args.connections, args.duration)
            states = [client.get("/v1/a2v/video.get", params={"video_id": v}).json()["data"] for v in renders]
            done_during = sum(s["status"] == "finished" for s in states)
            running_after = sum(s["status"] == "in_progressing" for s in states)
            client.post("/__admin/reset", json={"tenant": TOKEN})

            theirs: dict[str, dict[str, float] | None] = {"character.list": None, "video.get": None}
            prism_note = "skipped (--no-prism)"
            if not args.no_prism:
                prism_port = free_port()
                prism = start_prism(prism_port)
                prism_base = f"http://127.0.0.1:{prism_port}"
                if prism is None or not wait_until_up(f"{prism_base}/v1/ping", prism, 180):
                    prism_note = "Prism 5 could not be started (npx missing or the npm registry unreachable)"
                else:
                    prism_note = "Prism 5 (npx @stoplight/prism-cli@5 mock openapi.yaml)"
                    run_load(f"{prism_base}/v1/a2v/character.list", args.connections, 2)  # warm up its JIT
                    theirs["character.list"] = run_load(
                        f"{prism_base}/v1/a2v/character.list", args.connections, args.duration
                    )
                    theirs["video.get"] = run_load(
                        f"{prism_base}/v1/a2v/video.get?video_id={video_id}", args.connections, args.duration
                    )
        finally:
            stop(mock)
            if prism is not None:
                stop(prism)

    print()
    print(f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name in ("character.list", "video.get"):
        print(row(f"{name}  mock", ours[name]))
        print(row(f"{name}  prism", theirs[name], "" if theirs[name] else prism_note))
        if theirs[name]:
            print(f"  {'':<44} {ours[name]['rps'] / theirs[name]['rps']:>8.1f}x")  # type: ignore[index]
    print(row("video.get  mock, two renders running", busy))
    print(
        f"    8 renders of 60 s audio queued first (2 render at a time): {done_during} finished"
        f" during the run, {running_after} still in progress after it"
    )
    print(
        f"  10 s audio, submit -> finished: {', '.join(f'{t:.2f}' for t in timings)} s"
        f" (median {statistics.median(timings):.2f} s)"
    )
    print(f"  comparison: {prism_note}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--loadgen":
        result = asyncio.run(_loadgen(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        print(json.dumps(result))
        raise SystemExit(0)
    raise SystemExit(main())
