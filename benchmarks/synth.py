"""Time `shipyard synth` of both example environments, end to end in a fresh process.

Usage: python benchmarks/synth.py [--runs N]
Prints the wall time of each run and the median. Target: <= 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "examples" / "webapp" / "shipyard.toml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "shipyard", "--config", str(CONFIG), "synth", "--out", out],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        print(f"run {run}: {times[-1]:.2f} s")
    print(f"synth staging+production (one process, wall): median {statistics.median(times):.2f} s over {len(times)} runs")


if __name__ == "__main__":
    main()
