"""The policy gate: deploy, up and release refuse (exit 4) on policy errors before any AWS change; every input of
every environment is checked before the first change; results come from the cache when the templates are unchanged."""

from __future__ import annotations

import json

import pytest

from shipyard.app.target import embedded
from shipyard.aws import Aws
from shipyard.checks import engine
from shipyard.checks.cache import ResultCache
from shipyard.checks.lint import Linter, lint_template
from shipyard.config import load_config
from shipyard.synth import synthesize

from ..conftest import in_accounts


@pytest.fixture
def example_copy(example_copy, own_accounts):
    """The example in this module's own accounts, where the shared embedded AWS holds nothing but what it deploys."""
    return in_accounts(example_copy, own_accounts)


def _stacks(local_aws, account: str, region: str) -> list[str]:
    aws = Aws(embedded(local_aws.endpoint), account)
    return [s["StackName"] for s in aws.call("cloudformation", "DescribeStacks", region)["Stacks"]]


def _no_stacks_anywhere(local_aws, accounts) -> bool:
    return not any(_stacks(local_aws, account, region) for account in accounts for region in ("eu-west-1", "us-east-1"))


def test_deploy_production_without_waf_exits_4_before_any_change(cli, local_aws, example_copy, own_accounts):
    example_copy.write_text(example_copy.read_text().replace("waf = true", "waf = false"))
    result = cli("--config", str(example_copy), "deploy", "production", "--yes", "--endpoint", local_aws.endpoint)
    assert result.code == 4, result.err
    assert "policy checks of production: 1 policy error(s); nothing was changed" in result.err
    assert "SY-E105" in result.err
    assert _no_stacks_anywhere(local_aws, own_accounts)


def test_up_checks_every_environment_before_changing_any(cli, example_copy):
    # production's policy error must stop staging's deploy too; up's own embedded AWS is gone afterwards,
    # so its output says what happened: no stack event at all.
    example_copy.write_text(example_copy.read_text().replace("waf = true", "waf = false"))
    result = cli("--config", str(example_copy), "up")
    assert result.code == 4, result.err
    assert "CREATE_IN_PROGRESS" not in result.err and "SY-E105" in result.err


def test_up_refuses_a_missing_site_before_any_change(cli, example_copy):
    import shutil

    shutil.rmtree(example_copy.parent / "site")
    result = cli("--config", str(example_copy), "up")
    assert result.code == 2, result.err
    assert "site.directory: 'site' is not a folder next to shipyard.toml" in result.err
    assert "CREATE_IN_PROGRESS" not in result.err


def test_the_gate_reads_unchanged_templates_from_the_cache(example_copy, tmp_path, monkeypatch):
    # An empty cache of checked environments of its own; the synth and cfn-lint caches stay the suite's (what this
    # tests is that an environment checked once is neither synthesized for checking nor checked again).
    fresh = ResultCache("environments", root=tmp_path / "cache")
    monkeypatch.setattr(engine, "_environment_cache", lambda: fresh)
    config = load_config(example_copy)
    assemblies = synthesize(config, config.select(None), tmp_path / "plain")
    assert engine.gate(config, assemblies, tmp_path / "checked") == []
    assert (tmp_path / "checked").exists()  # checked once, with cdk-nag

    def no_synth(*args, **kwargs):
        raise AssertionError("unchanged templates were checked again")

    monkeypatch.setattr(engine, "synthesize", no_synth)
    assert engine.gate(config, assemblies, tmp_path / "again") == []

    # A changed template is checked again, and its new error blocks.
    example_copy.write_text(example_copy.read_text().replace("waf = true", "waf = false"))
    changed = load_config(example_copy)
    monkeypatch.undo()
    monkeypatch.setattr(engine, "_environment_cache", lambda: fresh)
    blocking = engine.gate(changed, synthesize(changed, [changed.environment("production")], tmp_path / "plain2"), tmp_path / "c2")
    assert {f.rule for f in blocking} == {"SY-E105"}


def test_production_ignores_suppressions_of_the_core_rules_even_in_metadata(example_copy, tmp_path):
    config = load_config(example_copy)

    def suppress_in_metadata(stacks):
        from shipyard.blueprint.suppressions import Suppression, suppress

        for stack in stacks:
            if stack.stack_name.endswith("-edge"):
                distribution = stack.node.find_child("Edge").node.find_child("Distribution")
                distribution.node.default_child.add_property_override("DistributionConfig.WebACLId", "")
                suppress(distribution, Suppression("SY-E105", "an escape hatch that tries to hide it"))

    findings = engine.run_checks(config, [config.environment("production")], tmp_path / "out", customize=suppress_in_metadata)
    web_acl = [f for f in findings if f.rule == "SY-E105"]
    assert web_acl and all(f.suppressed is None for f in web_acl)


@pytest.mark.parametrize("workers", [1, 2])
def test_lint_finds_schema_errors_in_process_and_in_workers(workers, tmp_path, monkeypatch):
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path))
    broken = json.dumps({"Resources": {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"Bogus": 1}}}})
    assert lint_template(broken, "eu-west-1") == [("E3002", "Site", "Additional properties are not allowed ('Bogus' was unexpected)")]
    with Linter(workers=workers) as linter:
        assert [m[0] for m in linter.submit(broken, "eu-west-1").result()] == ["E3002"]
    assert len(list((tmp_path / "checks" / "cfn-lint").glob("*.json"))) == 1


def test_up_refuses_a_missing_dockerfile_before_any_change(cli, example_copy):
    (example_copy.parent / "service" / "Dockerfile").unlink()
    result = cli("--config", str(example_copy), "up")
    assert result.code == 2, result.err
    assert "Dockerfile: not found; up builds the service from it and nothing was changed" in result.err
    assert "CREATE_IN_PROGRESS" not in result.err
