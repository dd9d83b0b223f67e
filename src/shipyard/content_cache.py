"""Where shipyard keeps what it can compute again (check results, synthesized assemblies), and how entries are named.

Entries are named by a SHA-256 over everything the result depends on, so a hit can never be stale and one cache
serves every checkout on a machine. It lives in $SHIPYARD_CACHE_DIR, else $XDG_CACHE_HOME/shipyard, else
~/.cache/shipyard; a read-only or full cache only costs time.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path


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
def code_version(package: Path, *distributions: str) -> str:
    """The code under `package` and the versions of `distributions`: a changed line never reads an old result."""
    from importlib.metadata import version

    sources = sorted(p for p in package.rglob("*") if p.suffix in (".py", ".js", ".tmpl") and p.is_file())
    return digest(*(p.read_bytes() for p in sources), *(version(d) for d in distributions))
