"""Regenerate the generated parts of the docs: `python scripts/gen_docs.py` (a test fails when they are stale)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from shipyard.docs import GENERATED  # noqa: E402


def main() -> None:
    for path, render in GENERATED.items():
        target = ROOT / path
        target.write_text(render(target.read_text() if target.exists() else ""))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
