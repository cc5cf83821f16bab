"""From a fresh clone to a finished video, following the README: what a new developer waits for.

Run: .venv/bin/python benchmarks/readme.py [--keep]

Clones this repository's committed HEAD into a temporary folder and follows README.md there, timing
each step: the set-up command's install (`python3 -m venv .venv && .venv/bin/pip install .`, with the
package index pip is configured with), the mock's start (`.venv/bin/a2v-mock`, until its banner), and the
"Your first video" blocks (submit a built-in sample, poll, download), run as written in one bash
session. The mock listens on a free port instead of 8000 (the only change to the text).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from a2v_testkit import free_port

ROOT = Path(__file__).resolve().parents[1]


def _first_video_blocks(readme: str) -> list[str]:
    section = readme.split("## Your first video", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```bash\n(.*?)^```$", section, re.MULTILINE | re.DOTALL)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="a2v-readme-"))
    clone = folder / "a2v-kit"
    mock = None
    try:
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        readme = (clone / "README.md").read_text(encoding="utf-8")
        setup = re.search(
            r"^(python3 -m venv \.venv && \.venv/bin/pip install \.) && (\.venv/bin/a2v-mock)$", readme, re.M
        )
        if setup is None:
            print(
                "benchmarks/readme.py: the README's set-up command changed; update this script",
                file=sys.stderr,
            )
            return 2
        started = time.perf_counter()
        subprocess.run(["bash", "-c", setup[1] + " --quiet"], cwd=clone, check=True)
        installed = time.perf_counter()
        port = free_port()
        log = (folder / "mock.log").open("wb")
        mock = subprocess.Popen(
            ["bash", "-c", f"exec {setup[2]} --port {port}"], cwd=clone, stdout=log, stderr=log
        )
        while b"a2v-mock listening on" not in (folder / "mock.log").read_bytes():
            if mock.poll() is not None:
                print((folder / "mock.log").read_text(), file=sys.stderr)
                return 1
            time.sleep(0.05)
        serving = time.perf_counter()
        script = "set -euo pipefail\n" + "\n".join(_first_video_blocks(readme)).replace(
            "127.0.0.1:8000", f"127.0.0.1:{port}"
        )
        subprocess.run(["bash", "-c", script], cwd=clone, check=True, stdout=subprocess.DEVNULL)
        finished = time.perf_counter()
        size = (clone / "hello.mp4").stat().st_size
    finally:
        if mock is not None:
            mock.terminate()
            mock.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"pip install (venv + package and dependencies): {installed - started:6.1f} s")
    print(f"mock start to banner:                          {serving - installed:6.1f} s")
    print(f"first video (submit, poll, download {size / 1024:.0f} KiB):    {finished - serving:6.1f} s")
    print(f"total, pip install to a finished video:        {finished - started:6.1f} s")
    if args.keep:
        print(f"clone kept at {clone}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
