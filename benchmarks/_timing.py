"""What the benchmarks share: run a shipyard command on a fresh copy of the example, several times, and report."""

from __future__ import annotations

import argparse
import os
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


def add_environments(config: Path, total: int) -> None:
    """Grow the example to `total` environments: copies of staging in accounts of their own."""
    extra = "".join(
        f'\n[environments.extra{n}]\naccount = "{333333333300 + n}"\ncpu = 256\nmemory = 512\nwaf = false\n'
        f'architecture = "x86_64"\nspot = true\n' for n in range(1, total - 1))
    text = config.read_text()
    if total > 2:
        # Like staging, the extra environments run without WAF, for the same reason.
        text = text.replace('id = "AwsSolutions-CFR2"\nenvironment = "staging"', 'id = "AwsSolutions-CFR2"\nenvironment = "[!p]*"')
    config.write_text(text + extra)


def run(title: str, command: Callable[[Path, Path], list[str]], *, detail: Callable[[str], str] = lambda stderr: "") -> None:
    """command(config, scratch) gives the shipyard arguments; prints each run's wall time and the median.

    --environments N grows the example to N environments; --warm keeps shipyard's result cache between runs
    (by default every run starts with an empty one); --app DIR times another app (its folder, with shipyard.toml).
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--environments", type=int, default=2)
    parser.add_argument("--warm", action="store_true", help="keep the check cache between runs (the first run fills it)")
    parser.add_argument("--app", type=Path, default=EXAMPLE, help="the app to time (default: examples/webapp)")
    args = parser.parse_args()
    times = []
    with tempfile.TemporaryDirectory() as shared_cache:
        for number in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory() as scratch:
                app = Path(scratch) / "app"
                shutil.copytree(args.app, app, ignore=shutil.ignore_patterns("cdk.out"))
                add_environments(app / "shipyard.toml", args.environments)
                cache = shared_cache if args.warm else str(Path(scratch) / "cache")
                started = time.perf_counter()
                result = subprocess.run([sys.executable, "-m", "shipyard", "--config", str(app / "shipyard.toml"),
                                         *command(app / "shipyard.toml", Path(scratch))], capture_output=True, text=True,
                                        env={**os.environ, "SHIPYARD_CACHE_DIR": cache})
                times.append(time.perf_counter() - started)
                if result.returncode != 0:
                    sys.exit(f"run {number} failed ({result.returncode}):\n{result.stderr[-2000:]}")
            extra = detail(result.stderr)
            print(f"run {number}: {times[-1]:.2f} s" + (f"  ({extra})" if extra else ""))
    state = "warm cache" if args.warm else "empty cache"
    app = "" if args.app == EXAMPLE else f" of {args.app}"
    print(f"{title}{app}, {args.environments} environments, {state} (wall): median {statistics.median(times):.2f} s over {len(times)} runs")
