"""How long the contract kit takes, and how many requests it sends, against a local mock.

Run: .venv/bin/python benchmarks/contract.py [--only quick,full,service,paced,two-host] [--seed N]

Prints one line per measurement (figures only, no timed assertions):
  quick, full   each profile against a fresh mock over a real socket (short URL and token lifetimes, so
                expiry is checked too); targets (issue 5): quick < 30 s, full < 3 min;
  service       `--profile service` against a slow mock (`pending_seconds: 60, in_progress_seconds: 240`,
                a service that renders for minutes); target (issue 12) < 7 min;
  paced         the quick profile against the mock limited to 30 requests a minute (the upstream limit):
                requests, minutes, and 429 answers (target: zero);
  two-host      the full profile across two network namespaces (needs root; see
                tests/contract_tests/test_across_hosts.py, which prints its own time).
Each line also gives the requests the run sent and the estimate the CLI prints beforehand.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from a2v_spec import load_spec
from contract_tests.config import PROFILES, KitOptions
from contract_tests.pacing import estimate_requests
from contract_tests.runner import run_with_exit_code
from mock_server.testing import run_server

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"quick": 30.0, "full": 180.0, "service": 420.0, "paced": None}
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


def measure(name: str, seed: int) -> str:
    profile = {"paced": "quick"}.get(name, name)
    timeout = 600.0 if name == "service" else 120.0
    with run_server(**_mock_settings(name)) as server:
        options = KitOptions(
            base_url=server.base_url,
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
        f"{name:8} {elapsed:7.1f} s ({elapsed / 60:4.1f} min, {aim})  exit {result.exit_code}  "
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
    args = parser.parse_args(argv)
    chosen = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = sorted(set(chosen) - set(MEASURES))
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; choose from {', '.join(MEASURES)}")
    for name in chosen:
        print(two_host() if name == "two-host" else measure(name, args.seed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
