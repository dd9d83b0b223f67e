"""How soon `shipyard logs --follow` shows a request: time from the response to its line on the follower's output.

Usage: python benchmarks/logs.py [--requests N] [--gap S]. Runs `shipyard up --keep` on a copy of the example
(embedded AWS), follows staging's /api/items lines (the health checks filtered out, so the follower's poll interval
grows while nothing matches), makes N requests through the local edge S seconds apart, and prints the median and the
worst delay. The embedded AWS has no Live Tail stream, so this measures the polling path (1 s, doubling to 5 s).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--gap", type=float, default=6.0, help="seconds between requests")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="shipyard-bench-logs-"))
    shutil.copytree(ROOT / "examples" / "webapp", scratch / "app", ignore=shutil.ignore_patterns("cdk.out"))
    env = {**os.environ, "SHIPYARD_CACHE_DIR": str(scratch / "cache")}
    up = subprocess.Popen([sys.executable, "-m", "shipyard", "up", "--keep"], cwd=scratch / "app", env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    endpoint = url = None
    for line in up.stdout:
        if "SHIPYARD_ENDPOINT=" in line:
            endpoint = line.split("SHIPYARD_ENDPOINT=", 1)[1].split()[0]
        if line.startswith("staging\t"):
            url = line.rstrip("\n").split("\t")[-1]
        if endpoint and url:
            break
    follower = subprocess.Popen([sys.executable, "-m", "shipyard", "logs", "staging", "--follow", "--since", "1s", "--filter", "/api/items"],
                                cwd=scratch / "app", env={**env, "SHIPYARD_ENDPOINT": endpoint}, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    seen: dict[str, float] = {}

    def read() -> None:
        for line in follower.stdout:
            seen[line.rstrip().rsplit(" ", 1)[-1]] = time.monotonic()

    threading.Thread(target=read, daemon=True).start()
    delays = []
    try:
        time.sleep(3)
        for _ in range(args.requests):
            time.sleep(args.gap)
            with urllib.request.urlopen(url + "/api/items", timeout=10) as response:
                sent, request_id = time.monotonic(), response.headers["x-request-id"]
            deadline = sent + 30
            while request_id not in seen and time.monotonic() < deadline:
                time.sleep(0.02)
            delays.append(seen.get(request_id, float("inf")) - sent)
    finally:
        follower.terminate()
        up.send_signal(2)
        up.wait(timeout=60)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"shipyard logs --follow on the embedded AWS (polling), {len(delays)} requests {args.gap:g} s apart: "
          f"median {statistics.median(delays):.2f} s, worst {max(delays):.2f} s from response to line")


if __name__ == "__main__":
    main()
