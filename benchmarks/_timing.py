"""What the benchmarks share: run a shipyard command on a fresh copy of the example, several times, and report."""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "webapp"


def run(title: str, command: Callable[[Path, Path], list[str]], *, detail: Callable[[str], str] = lambda stderr: "") -> None:
    """command(config, scratch) gives the shipyard arguments; prints each run's wall time and the median."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as scratch:
            app = Path(scratch) / "app"
            shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
            started = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "shipyard", "--config", str(app / "shipyard.toml"),
                                     *command(app / "shipyard.toml", Path(scratch))], capture_output=True, text=True)
            times.append(time.perf_counter() - started)
            if result.returncode != 0:
                sys.exit(f"run {number} failed ({result.returncode}):\n{result.stderr[-2000:]}")
        extra = detail(result.stderr)
        print(f"run {number}: {times[-1]:.2f} s" + (f"  ({extra})" if extra else ""))
    print(f"{title} (wall): median {statistics.median(times):.2f} s over {len(times)} runs")
