"""Coming from Copilot: import and adoption."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "copilot" / "shop"


def copilot_workspace(app: Path) -> Path:
    """The Copilot workspace of the fixture beside examples/shop's code, in `app`."""
    for folder in ("api", "catalog", "orders", "nightly", "site"):
        shutil.copytree(ROOT / "examples" / "shop" / folder, app / folder, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    shutil.copytree(FIXTURE / "copilot", app / "copilot")
    return app
