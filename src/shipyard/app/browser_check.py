"""The page as a viewer's browser sees it: headless Chromium opens the environment's URL (on the embedded AWS, its
local edge), lets the page's own scripts run, and reports whether it rendered and whether they threw.

Chromium writes each console message to its log with --enable-logging; an exception nobody caught reads
"Uncaught ...". What the page ought to show is the app's own business, tested by the app; this says whether the
page works at all through the edge. Run where Chromium is installed; otherwise it says it did not run.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

# Flags a sandboxed CI machine needs: no GPU, no sandbox (root), no background calls to Google's hosts.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000")
_UNCAUGHT = re.compile(r'CONSOLE[^\]]*\] "(Uncaught [^"]*)"')


@dataclass(frozen=True)
class BrowserCheck:
    ran: bool
    passed: bool
    detail: str
    seconds: float = 0.0

    def line(self) -> str:
        return ("passed: " if self.passed else "failed: " if self.ran else "not run: ") + self.detail


def check_page(url: str) -> BrowserCheck:
    import time

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return BrowserCheck(False, False, "chromium is not installed (apt-get install chromium)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url + "/"],
                                capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - started
    thrown = _UNCAUGHT.findall(result.stderr)
    if result.returncode != 0 or "<body" not in result.stdout:
        return BrowserCheck(True, False, f"the page at {url}/ did not render in chromium (exit {result.returncode})", seconds)
    if thrown:
        return BrowserCheck(True, False, f"the page at {url}/ rendered, but its scripts threw: {thrown[0]}", seconds)
    return BrowserCheck(True, True, f"the page at {url}/ rendered in chromium and its scripts threw nothing", seconds)
