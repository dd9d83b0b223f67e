"""Time `shipyard up` (embedded AWS: deploy, publish and verify staging and production) end to end.

Usage: python benchmarks/up.py [--runs N]
Prints the wall time of each run and the median. Target: <= 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "webapp"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as scratch:
            app = Path(scratch) / "app"
            shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "shipyard", "--config", str(app / "shipyard.toml"), "up"],
                                    capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if result.returncode != 0:
                sys.exit(f"run {run} failed ({result.returncode}):\n{result.stderr[-2000:]}")
            breakdown = next((line for line in result.stderr.splitlines() if line.startswith("time: ")), "")
        print(f"run {run}: {times[-1]:.2f} s  ({breakdown})")
    print(f"shipyard up, staging+production on the embedded AWS (wall): median {statistics.median(times):.2f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
