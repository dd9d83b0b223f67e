"""`shipyard up` with environments and stacks side by side, as on AWS, in a process of its own (a process holds one
embedded AWS)."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.embedded


# The embedded AWS does its work in one process, so up takes one environment and one stack at a time (execute.SERIAL);
# on AWS they go side by side. Here the same threads run against the embedded AWS, in a process of their own.
SIDE_BY_SIDE = """
import sys
from shipyard.app import up
from shipyard.deploy import execute
from shipyard.cli import run

execute.SERIAL = up.SERIAL = None
sys.argv = ["shipyard", *sys.argv[1:]]
run()
"""


def test_up_side_by_side_as_on_aws(example_copy):
    """On AWS, environments and independent stacks deploy at once; the embedded AWS takes the same threads."""
    result = subprocess.run([sys.executable, "-c", SIDE_BY_SIDE, "--config", str(example_copy), "up"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]  # the table says what failed
    assert [line.split("\t")[6] for line in result.stdout.splitlines() if line.startswith(("staging\t", "production\t"))] == \
        ["22/22 pass", "22/22 pass"]
