"""How long the contract kit takes against a local mock: the quick and the full profile.

Run: .venv/bin/python benchmarks/contract.py [--profile quick|full|both] [--seed N]

Targets (issue 5): quick under 30 s, full under 3 minutes, on the project's 2-core machine. Each
profile runs against a fresh mock over a real socket (`mock_server.testing.run_server`), with a short
URL lifetime so URL expiry is checked too.
"""

from __future__ import annotations

import argparse
import sys
import time

from contract_tests.config import KitOptions
from contract_tests.runner import run_with_exit_code
from mock_server.testing import run_server

TARGETS = {"quick": 30.0, "full": 180.0}


def measure(profile: str, seed: int) -> tuple[float, int, str]:
    with run_server(audio_hosts=["127.0.0.1"], limits={"url_ttl_seconds": 3}) as server:
        options = KitOptions(
            base_url=server.base_url, api_key="bench-a", second_api_key="bench-b", profile=profile, seed=seed
        )
        started = time.perf_counter()
        result = run_with_exit_code(options)
        elapsed = time.perf_counter() - started
    return elapsed, result.exit_code, result.report.text().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["quick", "full", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    profiles = ["quick", "full"] if args.profile == "both" else [args.profile]
    worst = 0
    for profile in profiles:
        elapsed, code, summary = measure(profile, args.seed)
        verdict = (
            "ok" if elapsed < TARGETS[profile] and code == 0 else "OVER TARGET" if code == 0 else "FAILED"
        )
        print(
            f"{profile:5}  {elapsed:6.1f} s  (target < {TARGETS[profile]:.0f} s)  "
            f"exit {code}  {summary}  [{verdict}]"
        )
        worst = max(worst, 0 if verdict == "ok" else 1)
    return worst


if __name__ == "__main__":
    sys.exit(main())
