"""Time `shipyard check` (cdk-nag + cfn-lint + own rules) on both example environments, in a fresh process.

Usage: python benchmarks/check.py [--runs N]
Target: <= 15 s wall on 2 cores.
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
            result = subprocess.run([sys.executable, "-m", "shipyard", "--config", str(app / "shipyard.toml"), "check"],
                                    capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if result.returncode != 0:
                sys.exit(f"run {run} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        print(f"run {run}: {times[-1]:.2f} s")
    print(f"shipyard check, staging+production (wall): median {statistics.median(times):.2f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
