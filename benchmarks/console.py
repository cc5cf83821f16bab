"""The web console's weight and how soon it shows a task: what a developer waits for on opening it.

Run: .venv/bin/python benchmarks/console.py [--runs 5]

Needs Debian's Chromium (`scripts/install-browser`). Against a mock on a free port with one finished
task of the browser's tenant, each run opens `/console/` in a fresh browser context and reads:
  page weight   bytes of every response the page loaded (HTML, CSS, JS modules, API answers)
  first row     ms from navigation start to the first task row in the table (`window.__a2vFirstRow`)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import httpx

from a2v_testkit.browser import CHROMIUM, CHROMIUM_ARGS
from mock_server.admin.console import STATIC
from mock_server.testing import run_server

TOKEN = "console-benchmark"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(
            "benchmarks/console.py: /usr/bin/chromium is missing; run scripts/install-browser",
            file=sys.stderr,
        )
        return 2
    from playwright.sync_api import sync_playwright

    static = sum(p.stat().st_size for p in STATIC.iterdir() if p.is_file())
    with run_server(render_workers=1, prewarm=False) as server:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        body = {"model_id": "eva_a0008", "audio_url": f"{server.base_url}/samples/short.wav"}
        video_id = httpx.post(f"{server.base_url}/v1/a2v/video.generate", json=body, headers=headers).json()[
            "data"
        ]["video_id"]
        while httpx.get(
            f"{server.base_url}/v1/a2v/video.get", params={"video_id": video_id}, headers=headers
        ).json()["data"]["status"] not in ("finished", "error"):
            time.sleep(0.2)
        weights, first_rows = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for _ in range(args.runs):
                context = browser.new_context()
                context.add_init_script(f"window.localStorage.setItem('a2v.open-token', '{TOKEN}')")
                page = context.new_page()
                loaded: list[int] = []
                page.on("response", lambda r, loaded=loaded: loaded.append(len(r.body()) if r.ok else 0))
                page.goto(f"{server.base_url}/console/")
                page.wait_for_function("window.__a2vFirstRow !== undefined", timeout=30_000)
                first_rows.append(page.evaluate("window.__a2vFirstRow"))
                page.wait_for_load_state("networkidle")
                weights.append(sum(loaded))
                context.close()
            browser.close()
    print(f"console static files (HTML+CSS+JS, uncompressed): {static / 1024:.1f} KiB")
    print(
        f"page weight incl. API answers, median of {args.runs}: {statistics.median(weights) / 1024:.1f} KiB"
    )
    print(
        f"time to first task row: median {statistics.median(first_rows):.0f} ms "
        f"(min {min(first_rows):.0f}, max {max(first_rows):.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
