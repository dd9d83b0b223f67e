"""`shipyard up --keep` in a process of its own, as a newcomer runs it, until the caller is done with it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY = "Ctrl-C stops it"

# The embedded AWS does its work in one process, so up takes one environment and one stack at a time (execute.SERIAL);
# on AWS they go side by side. This runs shipyard with the same threads as on AWS, against the embedded AWS.
SIDE_BY_SIDE = """
import sys
from shipyard.app import up
from shipyard.deploy import execute
from shipyard.cli import run

execute.SERIAL = up.SERIAL = None
sys.argv = ["shipyard", *sys.argv[1:]]
run()
"""


def local_urls(output: str) -> dict[str, str]:
    """Each environment's local URL, from its own line under the summary table ('staging: http://... (the local edge
    of https://...)'), whole however narrow the terminal."""
    found = (re.match(r"^(\S+): (http://127\.0\.0\.1:\d+) \(the local edge of https://\S+\)$", line)
             for line in output.splitlines())
    return {match.group(1): match.group(2) for match in found if match}


@contextmanager
def kept_up(arguments: list[str], *, cwd: Path, deadline_seconds: float = 240, columns: int | None = None,
            side_by_side: bool = False) -> Iterator[tuple[subprocess.Popen, str]]:
    """(process, its output up to 'Ctrl-C stops it'); Ctrl-C when the block ends.

    Piped (stderr to cwd/stderr.txt), or with `columns` on a pseudo-terminal of that width, as a user's terminal
    (its output then has both streams, without the terminal's control sequences). side_by_side: environments and
    independent stacks at once, as on AWS (SIDE_BY_SIDE)."""
    command = [sys.executable, *(("-c", SIDE_BY_SIDE) if side_by_side else ("-m", "shipyard")), *arguments, "up", "--keep"]
    stderr_path = cwd / "stderr.txt"
    if columns is None:
        with stderr_path.open("w") as errors:
            process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=errors, stdin=subprocess.DEVNULL,
                                       text=True, env=dict(os.environ))
            process.stderr_path = stderr_path
            assert process.stdout is not None
            yield from _until_ready(process, process.stdout.readline, deadline_seconds, stderr_path.read_text)
        return
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")} | {"TERM": "xterm"}
    process = subprocess.Popen(command, cwd=cwd, stdin=follower, stdout=follower, stderr=follower, env=environment)
    os.close(follower)
    pending = b""

    def read_line() -> str:
        nonlocal pending
        while b"\n" not in pending:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    return ""
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                return ""
            if not chunk:
                return ""
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line.decode(errors="replace")).replace("\r", "") + "\n"

    try:
        yield from _until_ready(process, read_line, deadline_seconds, lambda: "")
    finally:
        os.close(leader)


def _until_ready(process: subprocess.Popen, read_line, deadline_seconds: float, more) -> Iterator[tuple[subprocess.Popen, str]]:
    lines: list[str] = []
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        line = read_line()
        if not line:
            break
        lines.append(line)
        if READY in line:
            break
    output = "".join(lines)
    try:
        assert READY in output, output + more()
        yield process, output
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
