"""Benchmark the scaled-out mock beside the embedded default, on this machine. Prints figures only.

    .venv/bin/python benchmarks/scale.py [--clips 6] [--duration 5] [--connections 16] [--generators 2]

Needs PostgreSQL and RabbitMQ on 127.0.0.1 (a throwaway database and vhost are made and removed; S3 is
moto's standalone server) and nginx (scripts/install-scale-tools). Measures:
  1. renders per minute of 10 s clips: the embedded server with 1 and 2 render processes, and the
     scaled-out mock (one replica) with 1 and 2 `a2v-mock worker`s; `--clips` tasks submitted at once,
     timed from the first submit to the last `finished`;
  2. `video.get` requests/s of a finished video: the embedded server directly, and 1 and 2 replicas
     through Debian's nginx (`a2v_testkit.backing_services.nginx`, the configuration docs/deploy.md shows),
     with the same `--generators` load generator processes at once in both runs (figures summed);
     targets: 2 replicas >= 1.7x one, 2 workers >= 1.7x one (the ratios are printed);
  3. per-task cost of the scaled-out path: PostgreSQL statements (sum of every process's
     `a2v_store_round_trips_total`, less two per status poll this script made) and render messages
     published (`a2v_queue_published_total`), from each process's `/metrics`.
The machine's cores are shared with whatever else runs: read the figures side by side, not alone.
Each row says how busy the machine's cores were meanwhile: a second replica or worker on the same
machine can only add what the first left idle (with nginx, PostgreSQL, moto and the load generator on
the same two cores, a first replica at 78 % busy leaves room for about 1.3x, never 1.7x).
`--no-renders` measures requests/s only.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import run_load

from a2v_testkit import FileHost, free_port, speech_wav
from a2v_testkit.backing_services import (
    Cluster,
    moto_server,
    nginx,
    spawn,
    temp_bucket,
    temp_database,
    temp_vhost,
    wait_http,
)

TOKEN = "bench"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
CONFIG = {
    "audio_hosts": ["127.0.0.1"],
    "limits": {"max_audio_seconds": 12.0},
    "queue_capacity": 1000,
    # The renders' own pace: tasks start at once (by default each stays pending 0.3 s, for clients to see).
    "timings": {"pending_seconds": 0},
}
#: How long the idle cost is measured: several of the outbox's 5 s looks and the sweep's 5 s period.
IDLE_SECONDS = 30.0


class Polls:
    """Counts the status polls this script makes (each is three store statements on the server: the
    shared scenario's version, read before every API request, the rate window's upsert, and the task)."""

    def __init__(self) -> None:
        self.count = 0


def renders_per_minute(urls: list[str], audio_url: str, clips: int, polls: Polls) -> float:
    """Submit `clips` tasks round-robin over `urls` and wait for all; clips per minute."""
    started = time.perf_counter()
    ids = []
    for i in range(clips):
        response = httpx.post(
            f"{urls[i % len(urls)]}/v1/a2v/video.generate",
            json={"model_id": "eva_a0008", "audio_url": audio_url},
            headers=HEADERS,
            timeout=30,
        )
        response.raise_for_status()
        ids.append(response.json()["data"]["video_id"])
    waiting = set(ids)
    while waiting:
        time.sleep(0.25)
        for video_id in list(waiting):
            polls.count += 1
            video = httpx.get(
                f"{urls[0]}/v1/a2v/video.get", params={"video_id": video_id}, headers=HEADERS, timeout=30
            ).json()["data"]
            if video["status"] == "error":
                raise RuntimeError(f"task {video_id} failed: {video['error']}")
            if video["status"] == "finished":
                waiting.discard(video_id)
    return clips * 60 / (time.perf_counter() - started)


def finished_video(url: str, audio_url: str) -> str:
    response = httpx.post(
        f"{url}/v1/a2v/video.generate",
        json={"model_id": "eva_a0008", "audio_url": audio_url},
        headers={**HEADERS, "Prefer": "outcome=finish; duration=0.1"},
        timeout=30,
    )
    video_id = str(response.json()["data"]["video_id"])
    while httpx.get(f"{url}/v1/a2v/video.get", params={"video_id": video_id}, headers=HEADERS).json()["data"][
        "status"
    ] not in ("finished", "error"):
        time.sleep(0.1)
    return video_id


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _busy_since(ticks: tuple[int, int]) -> float:
    """The share of the machine's cores busy since `ticks` (`_cpu_ticks()`) were read."""
    busy, total = _cpu_ticks()
    return (busy - ticks[0]) / max(1, total - ticks[1])


def get_rps(urls: list[str], video_id: str, connections: int, duration: float) -> dict[str, float]:
    """Load every URL at once (one generator process each); requests/s summed, worst p99, and how busy
    the machine's cores were meanwhile (a run whose cores are all busy cannot go faster with more
    replicas on the same machine)."""
    results: list[dict[str, float]] = []
    ticks = _cpu_ticks()
    threads = [
        threading.Thread(
            target=lambda u=u: results.append(
                run_load(f"{u}/v1/a2v/video.get?video_id={video_id}", connections, duration)
            )
        )
        for u in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "rps": sum(r["rps"] for r in results),
        "p99": max(r["p99"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "busy": _busy_since(ticks),
    }


def scrape(url: str, name: str) -> float:
    text = httpx.get(url, timeout=10).text
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([\d.e+]+)$", text, re.M))


@contextlib.contextmanager
def embedded(workers: int, tmp: Path) -> Any:
    port = free_port()
    config = tmp / f"embedded{workers}.yaml"
    config.write_text(yaml.safe_dump({**CONFIG, "render_workers": workers, "render_nice": 0}))
    log = tmp / f"embedded{workers}.log"
    args = [
        "mock_server.runtime.cli",
        "--config",
        str(config),
        "--port",
        str(port),
        "--data-dir",
        str(tmp / f"e{workers}"),
    ]
    process = spawn(args, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/v1/ping", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=6, help="10 s clips per render measurement")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per requests/s measurement")
    parser.add_argument("--connections", type=int, default=16, help="connections per load generator")
    parser.add_argument(
        "--generators", type=int, default=2, help="load generator processes through nginx (both runs)"
    )
    parser.add_argument("--no-renders", action="store_true", help="measure requests/s only")
    args = parser.parse_args()

    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="a2v-bench-scale-") as name:
        tmp = Path(name)
        host = FileHost().start()
        audio = host.add("/ten.wav", speech_wav(10.0, 16000), "audio/wav")
        polls = Polls()

        for workers in (1,) if args.no_renders else (1, 2):
            with embedded(workers, tmp) as url:
                if not args.no_renders:
                    renders_per_minute([url], audio, 1, polls)  # warm the render processes
                    ticks = _cpu_ticks()
                    rate = renders_per_minute([url], audio, args.clips, polls)
                    rows.append(
                        (
                            "renders/min (10 s clips)",
                            f"embedded, {workers} render process(es)",
                            f"{rate:.1f}, cores {_busy_since(ticks):.0%} busy",
                        )
                    )
                if workers == 1:
                    video_id = finished_video(url, audio)
                    load = get_rps([url], video_id, args.connections, args.duration)
                    rows.append(("video.get req/s", "embedded, 1 process", _load(load)))

        with (
            temp_database() as dsn,
            temp_vhost() as broker,
            moto_server() as s3,
            temp_bucket(s3) as bucket,
        ):
            config = tmp / "scaled.yaml"
            config.write_text(yaml.safe_dump(CONFIG))
            cluster = Cluster(dsn, broker, f"s3://{bucket}/bench", s3, config, tmp)
            try:
                first = cluster.start_replica()
                cluster.start_worker(metrics=True)
                renders_per_minute([first], audio, 1, polls)  # warm
                idle = _costs(cluster, polls)
                time.sleep(IDLE_SECONDS)
                background = (_costs(cluster, polls)["store"] - idle["store"]) / IDLE_SECONDS
                rows.append(
                    (
                        "idle store statements/s",
                        "scaled, 1 replica + 1 worker",
                        f"{background:.1f} (the outbox's slow look, the sweep)",
                    )
                )
                rates: dict[int, float] = {}
                for workers in () if args.no_renders else (1, 2):
                    if workers == 2:
                        cluster.start_worker(metrics=True)
                        renders_per_minute([first], audio, 2, polls)
                    before = _costs(cluster, polls)
                    started = time.perf_counter()
                    ticks = _cpu_ticks()
                    rate = renders_per_minute([first], audio, args.clips, polls)
                    busy = _busy_since(ticks)
                    after = _costs(cluster, polls)
                    idle_share = background * (time.perf_counter() - started)
                    rates[workers] = rate
                    ratio = "" if workers == 1 else f" ({rate / rates[1]:.2f}x one worker; target >= 1.7x)"
                    rows.append(
                        (
                            "renders/min (10 s clips)",
                            f"scaled, {workers} worker(s)",
                            f"{rate:.1f}, cores {busy:.0%} busy{ratio}",
                        )
                    )
                    per_task = {k: (after[k] - before[k]) / args.clips for k in after}
                    per_task["api"] -= idle_share / args.clips
                    per_task["store"] -= idle_share / args.clips
                    rows.append(
                        (
                            "per task",
                            f"scaled, {workers} worker(s)",
                            f"{per_task['store']:.1f} store round trips (API {per_task['api']:.1f}, workers "
                            f"{per_task['workers']:.1f}), {per_task['published']:.2f} messages published",
                        )
                    )
                video_id = finished_video(first, audio)
                generators = args.generators
                with nginx([first], tmp / "nginx1") as balancer:
                    one = get_rps([balancer] * generators, video_id, args.connections, args.duration)
                rows.append(("video.get req/s", "scaled, 1 replica, through nginx", _load(one)))
                cluster.start_replica()
                with nginx(cluster.urls, tmp / "nginx2") as balancer:
                    two = get_rps([balancer] * generators, video_id, args.connections, args.duration)
                ratio = f" ({two['rps'] / one['rps']:.2f}x one replica; target >= 1.7x)"
                rows.append(("video.get req/s", "scaled, 2 replicas, through nginx", _load(two) + ratio))
            finally:
                cluster.stop()
        host.stop()

    width = max(len(r[1]) for r in rows)
    for what, setup, figure in rows:
        print(f"{what:<26} {setup:<{width}}  {figure}")
    return 0


def _load(result: dict[str, float]) -> str:
    return (
        f"{result['rps']:.0f} req/s, p99 {result['p99']:.1f} ms, non-2xx {result['non2xx']:.0f}, "
        f"cores {result['busy']:.0%} busy"
    )


def _costs(cluster: Cluster, polls: Polls) -> dict[str, float]:
    api = sum(scrape(f"{u}/metrics", "a2v_store_round_trips_total") for u in cluster.urls) - 3 * polls.count
    workers = sum(
        scrape(f"http://127.0.0.1:{p}/metrics", "a2v_store_round_trips_total") for p in cluster.metrics_ports
    )
    published = sum(scrape(f"{u}/metrics", "a2v_queue_published_total") for u in cluster.urls)
    return {"api": api, "workers": workers, "store": api + workers, "published": published}


if __name__ == "__main__":
    raise SystemExit(main())
