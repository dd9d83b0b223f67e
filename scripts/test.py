#!/usr/bin/env python3
"""Install what the tests need, then run them: the README's test command, and what .ci/run runs.

Usage: python3 scripts/test.py [--fast] [pytest arguments ...]

Beside Python, the tests drive Debian's chromium (the page in a real browser) and run the embedded RDS on the
machine's PostgreSQL as well as on the pgserver wheel's. As root, apt-get installs them when they are missing;
otherwise this says what to install and stops. Then a virtualenv in .venv with shipyard and its test extras (the
AWS CLI among them), and pytest on 4 workers: most tests wait on AWS's timers, so two cores serve four of them.
--fast runs the tier that needs no embedded AWS (under a minute), for while you work.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = {"chromium": lambda: shutil.which("chromium") is not None,
          "postgresql": lambda: bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))}


def system_packages() -> None:
    missing = [package for package, present in SYSTEM.items() if not present()]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        sys.exit(f"the tests need Debian's {' and '.join(missing)}: sudo apt-get install {' '.join(missing)}, then run this again")
    print(f"installing {', '.join(missing)} (apt-get)", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def virtualenv() -> Path:
    python = ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        venv.create(ROOT / ".venv", with_pip=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]"], check=True)
    # Compiled once here, even where PYTHONDONTWRITEBYTECODE is set: every shipyard process the tests start reads
    # the bytecode instead of compiling the package again.
    subprocess.run([str(python), "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    return python


def main(arguments: list[str]) -> int:
    system_packages()
    python = virtualenv()
    fast = "--fast" in arguments
    rest = [a for a in arguments if a != "--fast"]
    command = [str(python), "-m", "pytest", *(["-m", "not embedded", "-n", "2"] if fast else ["-n", "4"]), *rest]
    print("$ " + " ".join(command[1:]), flush=True)
    return subprocess.run(command, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
