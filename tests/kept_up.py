"""`shipyard up --keep` in a process of its own, as a newcomer runs it, until the caller is done with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def kept_up(arguments: list[str], *, cwd: Path, deadline_seconds: float = 240) -> Iterator[tuple[subprocess.Popen, str]]:
    """(process, its output up to 'Ctrl-C stops it'); Ctrl-C when the block ends. stderr goes to cwd/stderr.txt."""
    stderr_path = cwd / "stderr.txt"
    with stderr_path.open("w") as errors:
        process = subprocess.Popen([sys.executable, "-m", "shipyard", *arguments, "up", "--keep"], cwd=cwd,
                                   stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL, text=True,
                                   env=dict(os.environ))
        process.stderr_path = stderr_path
        lines: list[str] = []
        deadline = time.monotonic() + deadline_seconds
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops it" in line:
                break
        output = "".join(lines)
        try:
            assert "Ctrl-C stops it" in output, output + stderr_path.read_text()
            yield process, output
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                process.wait(timeout=60)
