"""Check results kept by content: the same templates, rules and settings give the same findings.

Entries are JSON files named by a SHA-256 over everything the result depends
on, so a hit can never be stale and one cache can serve every checkout on a
machine (the tests copy the example many times). It lives in
$SHIPYARD_CACHE_DIR, else $XDG_CACHE_HOME/shipyard, else ~/.cache/shipyard.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

# Entries kept per kind; the oldest go first. One entry is a few kilobytes.
KEEP = 2000


def directory() -> Path:
    if os.environ.get("SHIPYARD_CACHE_DIR"):
        return Path(os.environ["SHIPYARD_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "shipyard"


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


@cache
def code_version() -> str:
    """The checking code itself, so a changed rule or engine never reads an old result."""
    from importlib.metadata import version

    here = Path(__file__).parent
    sources = sorted(here.rglob("*.py"))
    return digest(*(p.read_bytes() for p in sources), version("cfn-lint"), version("cdk-nag"), version("aws-cdk-lib"))


class ResultCache:
    def __init__(self, kind: str, root: Path | None = None) -> None:
        self.path = (root or directory()) / "checks" / kind

    def get(self, key: str) -> Any | None:
        try:
            return json.loads((self.path / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            # Written under a temporary name and renamed, so a reader never sees half a file.
            with tempfile.NamedTemporaryFile("w", dir=self.path, suffix=".tmp", delete=False) as handle:
                json.dump(value, handle)
            os.replace(handle.name, self.path / f"{key}.json")
            self._prune()
        except OSError:
            pass  # a read-only or full cache only costs time

    def _prune(self) -> None:
        entries = sorted(self.path.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)
