from shipyard.docs import GENERATED

from .conftest import ROOT


def test_generated_docs_are_current():
    for path, render in GENERATED.items():
        current = (ROOT / path).read_text()
        assert render(current) == current, f"{path} is stale: run python scripts/gen_docs.py"
