"""Benchmark the validating proxy: what it adds in front of the mock, measured in the same run.

    .venv/bin/python benchmarks/proxy.py [--duration 5] [--connections 32]

Starts the mock (`a2v-mock`) and `a2v-contract proxy --upstream <mock>` as separate processes, then
loads `character.list` and `video.get` (a finished video) on the mock alone and through the proxy,
alternately, with the load generator of `benchmarks/server.py` (`wrk` when installed, else an
asyncio+httpx subprocess). Prints requests/s, p50 and p99 of each and the latency the proxy adds.
Also: p50 with one connection (the latency added without queueing) and each process's CPU time per
request. Targets (issue 14): p50 added under 2 ms; throughput through the proxy at least half of the
mock alone.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import HEADERS, ROOT, row, run_load, start_mock, stop, submit, until_finished, wait_until_up

from a2v_testkit import FileHost, free_port, speech_wav


def start_proxy(upstream: str, port: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "contract_tests.cli", "proxy", "--upstream", upstream, "-q"]
    return subprocess.Popen(
        [*args, "--listen", f"127.0.0.1:{port}", "--no-fetch-audio"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="alternating mock/proxy runs per operation")
    args = parser.parse_args()
    tool = "wrk -t2" if shutil.which("wrk") else "python asyncio+httpx subprocess"
    print(
        f"A2V proxy benchmark, 127.0.0.1: {args.connections} connections, {args.duration:g} s a run, {tool}"
    )

    with tempfile.TemporaryDirectory(prefix="a2v-bench-proxy-") as tmp, FileHost() as audio:
        root = Path(tmp)
        one = audio.add("one.wav", speech_wav(1.0), "audio/wav")
        mock_port, proxy_port = free_port(), free_port()
        mock_base, proxy_base = f"http://127.0.0.1:{mock_port}", f"http://127.0.0.1:{proxy_port}"
        mock = start_mock(root, mock_port, "auto")
        proxy = start_proxy(mock_base, proxy_port)
        results: dict[str, dict[str, list[dict[str, float]]]] = {}
        cpu_ms: dict[str, dict[str, float]] = {}
        single: dict[str, dict[str, dict[str, float]]] = {}
        try:
            if not (wait_until_up(f"{mock_base}/v1/ping", mock, 60)
                    and wait_until_up(f"{proxy_base}/v1/ping", proxy, 60)):  # fmt: skip
                print("the mock or the proxy did not start")
                return 1
            with httpx.Client(base_url=proxy_base, headers=HEADERS, timeout=30) as client:
                video_id = submit(client, one)
                until_finished(client, video_id, poll=1.0)
            paths = {
                "character.list": "/v1/a2v/character.list",
                "video.get": f"/v1/a2v/video.get?video_id={video_id}",
            }
            for name, path in paths.items():
                run_load(f"{proxy_base}{path}", args.connections, 1)  # warm both up
                results[name] = {"mock": [], "proxy": []}
                for _ in range(args.rounds):
                    for label, base in (("mock", mock_base), ("proxy", proxy_base)):
                        results[name][label].append(
                            run_load(f"{base}{path}", args.connections, args.duration)
                        )
                        time.sleep(0.5)
                # CPU seconds each process spends per proxied request, from /proc (Linux).
                before = {"mock": cpu_seconds(mock.pid), "proxy": cpu_seconds(proxy.pid)}
                figures = run_load(f"{proxy_base}{path}", args.connections, args.duration)
                served = figures["rps"] * args.duration
                cpu_ms[name] = {
                    label: (cpu_seconds(process.pid) - before[label]) * 1000 / max(served, 1)
                    for label, process in (("mock", mock), ("proxy", proxy))
                }
                # One connection: the latency the proxy adds to a request, without queueing.
                single[name] = {
                    label: run_load(f"{base}{path}", 1, args.duration)
                    for label, base in (("mock", mock_base), ("proxy", proxy_base))
                }
        finally:
            stop(proxy)
            stop(mock)

    print()
    print(f"  {'':<44} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
    for name, runs in results.items():
        best = {label: max(figures, key=lambda f: f["rps"]) for label, figures in runs.items()}
        print(row(f"{name}  mock alone", best["mock"]))
        print(row(f"{name}  through the proxy", best["proxy"]))
        added = best["proxy"]["p50"] - best["mock"]["p50"]
        added_p99 = best["proxy"]["p99"] - best["mock"]["p99"]
        share = best["proxy"]["rps"] / best["mock"]["rps"]
        print(
            f"    added p50 {added:.2f} ms (target < 2), p99 {added_p99:.2f} ms;"
            f" throughput {share:.0%} of the mock alone (target >= 50%)"
        )
        one = single[name]
        print(
            f"    1 connection: p50 mock {one['mock']['p50']:.2f} ms, through the proxy "
            f"{one['proxy']['p50']:.2f} ms: added {one['proxy']['p50'] - one['mock']['p50']:.2f} ms"
        )
        cpu = cpu_ms[name]
        print(
            f"    CPU per request: mock {cpu['mock']:.2f} ms, proxy process {cpu['proxy']:.2f} ms"
            " (less sensitive than latency to other load on the machine)"
        )
    print(f"  best of {args.rounds} alternating runs each; the proxy judges every exchange (-q: not printed)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
