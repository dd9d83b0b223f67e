"""Normalized snapshots of synthesized templates, for reviewing blueprint changes as diffs."""

from __future__ import annotations

import json

from shipyard.synth import EnvironmentAssembly

# Templates are deterministic (no assets, no bootstrap names): sorted keys suffice.


def normalize(assembly: EnvironmentAssembly) -> str:
    stacks = {s.name: s.template() for s in assembly.stacks}
    text = json.dumps(stacks, indent=1, sort_keys=True)
    return text + "\n"
