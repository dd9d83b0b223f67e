"""Regenerate tests/snapshots/<env>.json from the example app: `python scripts/update_snapshots.py`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from shipyard.config import load_config  # noqa: E402
from shipyard.snapshot import normalize  # noqa: E402
from shipyard.synth import synthesize  # noqa: E402


def main() -> None:
    config = load_config(ROOT / "examples" / "webapp" / "shipyard.toml")
    with tempfile.TemporaryDirectory() as out:
        for assembly in synthesize(config, config.select(None), Path(out)):
            target = ROOT / "tests" / "snapshots" / f"{assembly.environment.name}.json"
            target.write_text(normalize(assembly))
            print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
