import re

from shipyard.checks.base import Category
from shipyard.checks.rules import RULES

from ..conftest import ROOT


def test_ids_encode_severity_and_category_and_are_unique():
    assert len({r.id for r in RULES}) == len(RULES) >= 13
    for rule in RULES:
        match = re.fullmatch(r"SY-([EW])(\d)(\d\d)", rule.id)
        assert match, rule.id
        assert match.group(1) == rule.severity.value[0].upper()
        assert Category(int(match.group(2))) is rule.category
        assert rule.short and len(rule.long) > 40 and rule.rationale


def test_every_rule_has_its_own_test_file():
    for rule in RULES:
        module = type(rule).__module__.rsplit(".", 1)[1]
        assert (ROOT / "tests" / "checks" / f"test_{module}.py").exists(), module
