"""Check results kept by content: the same templates, rules and settings give the same findings.

Entries are JSON files in shipyard's cache (shipyard/cache.py), named by
everything the result depends on; the tests copy the example many times and
every copy reads the same entries.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from shipyard import content_cache as cache

# Entries kept per kind; the oldest go first. One entry is a few kilobytes.
KEEP = 2000
directory, digest = cache.directory, cache.digest


def code_version() -> str:
    """The checking code itself, so a changed rule or engine never reads an old result."""
    return cache.code_version(Path(__file__).parent, "cfn-lint", "cdk-nag", "aws-cdk-lib")


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
