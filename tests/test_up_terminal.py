"""up's summary on a real terminal (a pseudo-terminal of 80 and of 120 columns): the table cuts long cells to the
width, and each environment's addresses still stand whole on a line of their own."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest

RENDER = """
from shipyard import render
from shipyard.app.up import EnvironmentUp, UpReport

report = UpReport(target="embedded AWS at http://127.0.0.1:45123", timings={"deploy staging": 2.0}, total=28.0)
for name, account, port in (("staging", "111111111111", 42205), ("production", "222222222222", 42207)):
    report.environments.append(EnvironmentUp(
        name, account, "eu-west-1", "6 (created)", f"https://d{account[:6]}abcdefgh.cloudfront.net", "3 uploaded, 0 unchanged",
        [], 18, url=f"http://127.0.0.1:{port}", release="released sha256:eb289ec76f4e"))
render.up(report)
"""


def _on_terminal(columns: int) -> str:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")} | {"TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-c", RENDER], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the follower closed: the process is done
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(leader)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace")).replace("\r", "")


@pytest.mark.parametrize("columns", [80, 120])
def test_each_environments_addresses_stand_whole_at_any_width(columns):
    shown = _on_terminal(columns)
    assert "shipyard up on embedded AWS" in shown, shown  # the table was drawn for a terminal, not as tab-separated lines
    assert "\t" not in shown
    for line in ("staging: http://127.0.0.1:42205 (the local edge of https://d111111abcdefgh.cloudfront.net)",
                 "production: http://127.0.0.1:42207 (the local edge of https://d222222abcdefgh.cloudfront.net)"):
        assert line in shown.splitlines(), shown
