"""How long the contract kit takes, and how many requests it sends, against a local mock.

Run: .venv/bin/python benchmarks/contract.py [--only quick,full,service,paced,two-host] [--seed N]
         [--checkout before=/path/to/an/older/checkout ...]

Prints one line per measurement (figures only, no timed assertions):
  quick, full   each profile against a fresh mock over a real socket (short URL and token lifetimes, so
                expiry is checked too); targets (issue 19): quick < 10 s, full < 60 s;
  service       `--profile service` against a slow mock (`pending_seconds: 60, in_progress_seconds: 240`,
                a service that renders for minutes); target (issue 12) < 7 min;
  paced         the quick profile against the mock limited to 30 requests a minute (the upstream limit):
                requests, minutes, and 429 answers (target: zero);
  two-host      the full profile across two network namespaces (needs root; see
                tests/contract_tests/test_across_hosts.py, which prints its own time).
Each line also gives the requests the run sent and the estimate the CLI prints beforehand.

The mock runs as its own process (`a2v-mock`, as a user runs it), the kit in this one. With
`--checkout LABEL=PATH` each measurement is made against the mock of this checkout and then against the
mock of each other checkout (its own code, the same kit), one after the other in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import yaml

from a2v_spec import load_spec
from a2v_testkit import free_port
from contract_tests.config import PROFILES, KitOptions
from contract_tests.pacing import estimate_requests
from contract_tests.runner import run_with_exit_code

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"quick": 10.0, "full": 60.0, "service": 420.0, "paced": None}
MEASURES = ("quick", "full", "service", "paced", "two-host")


def _mock_settings(name: str) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "audio_hosts": ["127.0.0.1"],
        "limits": {"url_ttl_seconds": 3, "access_token_ttl_seconds": 3},
    }
    if name == "service":
        settings["timings"] = {"pending_seconds": 60, "in_progress_seconds": 240}
    if name == "paced":
        settings["rate_limit"] = {"requests": 30, "per_seconds": 60}
    return settings


@contextlib.contextmanager
def mock_of(root: Path, settings: dict[str, Any]) -> Iterator[str]:
    """`a2v-mock` of the checkout at `root` with `settings`, on a free port; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="a2v-contract-bench-") as tmp:
        config = Path(tmp) / "a2v.yaml"
        config.write_text(yaml.safe_dump({**settings, "log_level": "warning"}))
        port = free_port()
        args = [
            sys.executable,
            "-m",
            "mock_server.runtime.cli",
            "--port",
            str(port),
            "--data-dir",
            f"{tmp}/data",
        ]
        process = subprocess.Popen(
            [*args, "--config", str(config)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root)},
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while process.poll() is None and time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/v1/ping", headers={"Authorization": "Bearer x"}).status_code == 200:
                        break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"the mock of {root} did not start")
            yield base
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def measure(name: str, seed: int, label: str = "", root: Path = ROOT) -> str:
    profile = {"paced": "quick"}.get(name, name)
    timeout = 600.0 if name == "service" else 120.0
    with mock_of(root, _mock_settings(name)) as base_url:
        options = KitOptions(
            base_url=base_url,
            api_key="bench-a",
            second_api_key="bench-b",
            profile=profile,
            seed=seed,
            timeout=timeout,
        )
        started = time.perf_counter()
        result = run_with_exit_code(options)
        elapsed = time.perf_counter() - started
    traffic = result.report.traffic
    target = TARGETS[name]
    verdict = "FAILED" if result.exit_code else "ok" if target is None or elapsed < target else "OVER TARGET"
    aim = f"target < {target:.0f} s" if target else "target: zero 429s"
    estimate = estimate_requests(PROFILES[profile], load_spec())
    sent, refused, waited = (traffic.get(k, 0) for k in ("requests", "answered_429", "waited_for_windows"))
    return (
        f"{name:8} {label:10} {elapsed:7.1f} s ({elapsed / 60:4.1f} min, {aim})  exit {result.exit_code}  "
        f"{sent:g} requests (estimate {estimate}), {refused:g} answered 429, {waited:g} s waited  "
        f"{result.report.text().splitlines()[0]}  [{verdict}]"
    )


def two_host() -> str:
    if os.geteuid() != 0:
        return "two-host needs root (ip netns): not measured"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", str(ROOT / "tests/contract_tests/test_across_hosts.py"), "-q", "-s",
         "-p", "no:randomly"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    times = [line for line in run.stdout.splitlines() if line.startswith(("two-host run", ".two-host run"))]
    return "two-host " + ("; ".join(t.lstrip(".") for t in times) or f"failed:\n{run.stdout[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated: {', '.join(MEASURES)}")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--checkout",
        action="append",
        default=[],
        metavar="LABEL=PATH",
        help="also measure against the mock of another checkout (e.g. before=/tmp/a2v-083970b)",
    )
    args = parser.parse_args(argv)
    mocks = [("this", ROOT)]
    for item in args.checkout:
        label, sep, path = item.partition("=")
        if not sep or not Path(path, "mock_server").is_dir():
            parser.error(f"--checkout takes LABEL=PATH of a checkout with mock_server/, got {item!r}")
        mocks.append((label, Path(path).resolve()))
    chosen = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(MEASURES))
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    print(f"load before the run: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    for name in chosen:
        if name == "two-host":
            print(two_host(), flush=True)
            continue
        for label, root in mocks:
            print(measure(name, args.seed, label, root), flush=True)
    print(f"load after the run: {os.getloadavg()[0]:.2f} (1 min)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
