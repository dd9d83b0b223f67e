"""The benchmarks and scripts import shipyard's names where they live now (a move in src/ breaks no script unseen:
their imports inside functions only run with a flag, such as aws_pace.py --measure)."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")])


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipyard_name_a_script_imports_exists(script):
    missing = []
    for node in ast.walk(ast.parse(script.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shipyard"):
            module = importlib.import_module(node.module)
            missing += [f"{node.module}.{alias.name} (line {node.lineno})" for alias in node.names
                        if not hasattr(module, alias.name) and importlib.util.find_spec(f"{node.module}.{alias.name}") is None]
    assert not missing, f"{script.name} imports names that do not exist: {missing}"
