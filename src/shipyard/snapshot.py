"""Normalized snapshots of synthesized templates, for reviewing blueprint changes as diffs."""

from __future__ import annotations

import json
import re

from shipyard.synth import EnvironmentAssembly

# Hashes CDK derives from content (asset hashes, logical-id suffixes of
# generated names) are kept: they only change when the template does.
_VOLATILE = re.compile(r"cdk-hnb659fds-[a-z-]+-\d{12}-[a-z0-9-]+")


def normalize(assembly: EnvironmentAssembly) -> str:
    stacks = {s.name: s.template() for s in assembly.stacks}
    text = json.dumps(stacks, indent=1, sort_keys=True)
    return _VOLATILE.sub("<bootstrap-resource>", text) + "\n"
