"""plan / deploy / verify / publish-site / destroy against the embedded AWS, through the CLI where a user would."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import pytest

from shipyard.app.target import embedded
from shipyard.aws import Aws
from shipyard.config import load_config
from shipyard.deploy import apply
from shipyard.deploy.apply import AccountMismatch, DeployFailed, Interrupted
from shipyard.deploy.execute import DeployOptions, deploy
from shipyard.errors import ShipyardError
from shipyard.synth import synthesize

from ..conftest import accounts_of, in_accounts

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


@pytest.fixture
def example_copy(example_copy, own_accounts):
    """The example in this module's own accounts: it deploys, breaks and destroys stacks the other modules never see."""
    return in_accounts(example_copy, own_accounts)


def _rename(config_path, name):
    """Another app in accounts of its own, so it shares nothing (not even the OIDC provider) with others."""
    accounts = accounts_of(f"{__name__}.{name}")
    text = re.sub(r'(\[environments\.(staging|production)\]\naccount = )"\d{12}"',
                  lambda m: f'{m[1]}"{accounts[0] if m[2] == "staging" else accounts[1]}"', config_path.read_text())
    config_path.write_text(text.replace('name = "webapp"', f'name = "{name}"'))
    return accounts[0]


def _stack_status(aws, region, name):
    return aws.call("cloudformation", "DescribeStacks", region, StackName=name)["Stacks"][0]["StackStatus"]


def test_deploy_plan_change_and_noop(cli, local_aws, example_copy, own_accounts):
    ep = ["--endpoint", local_aws.endpoint]
    config = ["--config", str(example_copy)]
    first = cli(*config, "deploy", "staging", *ep)
    assert first.code == 0, first.err
    assert "webapp-staging-foundation: create" in first.err

    unchanged = cli(*config, "plan", "staging", *ep)
    assert unchanged.code == 0, unchanged.err
    assert "staging is up to date: no changes" in unchanged.out

    example_copy.write_text(example_copy.read_text().replace("desired_count = 2", "desired_count = 3", 1))
    pending = cli(*config, "plan", "staging", *ep)
    assert pending.code == 3, pending.err
    assert "Modify" in pending.out and "WebService" in pending.out
    assert "monthly cost:" in pending.out
    assert "webapp-staging-foundation (no change)" in pending.out

    applied = cli(*config, "deploy", "staging", *ep)
    assert applied.code == 0, applied.err
    services = Aws(embedded(local_aws.endpoint), own_accounts[0]).call(
        "ecs", "DescribeServices", "eu-west-1", cluster="webapp-staging", services=["web"])["services"]
    assert services[0]["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert cli(*config, "plan", "staging", *ep).code == 0

    again = cli(*config, "deploy", "staging", *ep)
    assert again.code == 0
    assert "staging: no changes; nothing to do" in again.err


def test_production_needs_confirmation(cli, local_aws, example_copy, own_accounts):
    result = cli("--config", str(example_copy), "deploy", "production", "--endpoint", local_aws.endpoint)
    assert result.code == 2
    assert "is production; changes need confirmation" in result.err
    with pytest.raises(Exception, match="does not exist"):
        Aws(embedded(local_aws.endpoint), own_accounts[1]).call(
            "cloudformation", "DescribeStacks", "eu-west-1", StackName="webapp-production-foundation")


def test_verify_catches_real_misconfiguration(cli, local_aws, example_copy):
    account = _rename(example_copy, "verified")
    config, ep = ["--config", str(example_copy)], ["--endpoint", local_aws.endpoint]
    assert cli(*config, "deploy", "staging", *ep).code == 0
    good = cli(*config, "verify", "staging", *ep)
    assert good.code == 0, good.out
    assert "FAIL" not in good.out

    aws = Aws(embedded(local_aws.endpoint), account)
    aws.call("s3", "DeletePublicAccessBlock", "eu-west-1", Bucket=f"verified-staging-site-{account}")
    distribution_id = aws.call("cloudformation", "DescribeStacks", "eu-west-1", StackName="verified-staging-edge")["Stacks"][0]
    distribution_id = {o["OutputKey"]: o["OutputValue"] for o in distribution_id["Outputs"]}["DistributionId"]
    current = aws.call("cloudfront", "GetDistributionConfig", "us-east-1", Id=distribution_id)
    for origin in current["DistributionConfig"]["Origins"]["Items"]:
        origin.pop("OriginAccessControlId", None)
    aws.call("cloudfront", "UpdateDistribution", "us-east-1", Id=distribution_id, IfMatch=current["ETag"],
             DistributionConfig=current["DistributionConfig"])

    broken = cli(*config, "verify", "staging", *ep)
    assert broken.code == 1
    failed = [line for line in broken.out.splitlines() if "\tFAIL\t" in line]
    assert any(line.startswith("SY-E101\tsite bucket is private") for line in failed), broken.out
    assert any(line.startswith("SY-E102\tS3 origin uses origin access control") for line in failed), broken.out
    # CloudFormation's drift detection sees the bucket's change too (the distribution's is read by SY-E102 only).
    assert any(line.startswith("SY-E901\t") and "/PublicAccessBlockConfiguration" in line for line in failed), broken.out
    assert len(failed) == 3


def test_wrong_account_is_refused_with_both_ids(local_aws, assemblies):
    aws = Aws(embedded(local_aws.endpoint), "999999999999")
    with pytest.raises(AccountMismatch) as caught:
        deploy(aws, assemblies["staging"], DeployOptions())
    assert "caller is in account 999999999999" in caught.value.what
    assert "staging in account 111111111111" in caught.value.what
    assert caught.value.exit_code == 4  # a guard refused, as the README defines it


def test_no_credentials_for_aws(cli, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    from ..conftest import EXAMPLE_CONFIG

    result = cli("--config", str(EXAMPLE_CONFIG), "plan", "staging", "--aws")
    assert result.code == 1
    assert "AWS credentials: none found for --aws" in result.err
    assert "hint:" in result.err


def test_unknown_environment_and_missing_target(cli, example_copy):
    unknown = cli("--config", str(example_copy), "deploy", "prod", "--endpoint", "http://127.0.0.1:1")
    assert unknown.code == 2 and "known environments: staging, production" in unknown.err
    no_target = cli("--config", str(example_copy), "deploy", "staging")
    assert no_target.code == 2 and "no AWS target named" in no_target.err


@pytest.fixture
def ctrl_c_delivered():
    """SIGINT raises KeyboardInterrupt, as on a terminal, even where the suite was started in the background (a shell
    starts background jobs with SIGINT ignored, and Python then leaves it ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_waits_for_a_stack_in_progress_and_survives_an_interrupt(local_aws, example_copy, tmp_path, monkeypatch, ctrl_c_delivered):
    account = _rename(example_copy, "waiter")
    config = load_config(example_copy)
    assembly = synthesize(config, [config.environment("staging")], tmp_path / "out")[0]
    aws = Aws(embedded(local_aws.endpoint), account)
    deploy(aws, assembly, DeployOptions())
    # Ctrl-C while CloudFormation works: a clear message, nothing half-done on our side.
    local_aws.set_stack_status(account, "eu-west-1", "waiter-staging-service", "UPDATE_IN_PROGRESS")
    # A real Ctrl-C: SIGINT reaches the main thread while the stack is waited for on another one. It is sent once
    # the wait has begun, not after a fixed delay, so a slow machine does not interrupt the plan instead.
    from shipyard.deploy import execute

    def waiting(*args, **kwargs):
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        return original_wait(*args, **kwargs)

    original_wait = execute.wait_for_stack
    monkeypatch.setattr(execute, "wait_for_stack", waiting)
    with pytest.raises(Interrupted) as caught:
        deploy(aws, assembly, DeployOptions())
    monkeypatch.setattr(execute, "wait_for_stack", original_wait)
    assert "run the same command again" in caught.value.hint
    assert not apply.stop_requested.is_set()

    # Run again: it waits for the operation instead of racing it, then carries on.
    threading.Timer(1.0, lambda: local_aws.set_stack_status(account, "eu-west-1", "waiter-staging-service", "UPDATE_COMPLETE")).start()
    started = time.monotonic()
    results = deploy(aws, assembly, DeployOptions())
    assert time.monotonic() - started >= 0.9
    assert {r.outcome for r in results} == {"unchanged"}


def test_rejected_stack_prints_root_cause_then_is_replaced(cli, local_aws, example_copy):
    account = _rename(example_copy, "clash")
    aws = Aws(embedded(local_aws.endpoint), account)
    aws.call("s3", "CreateBucket", "eu-west-1", Bucket=f"clash-staging-site-{account}",
             CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    config, ep = ["--config", str(example_copy)], ["--endpoint", local_aws.endpoint]

    failed = cli(*config, "deploy", "staging", *ep)
    assert failed.code == 1
    first_line = failed.err.strip().splitlines()[-2] if "hint:" in failed.err else failed.err.strip().splitlines()[-1]
    assert "error: clash-staging-edge: ROLLBACK_COMPLETE: EdgeSiteBucket" in first_line, failed.err
    assert "CREATE_FAILED" in first_line
    assert "Resource creation cancelled" not in first_line
    assert _stack_status(aws, "eu-west-1", "clash-staging-edge") == "ROLLBACK_COMPLETE"

    refused = cli(*config, "deploy", "staging", *ep)
    assert refused.code == 1 and "is in ROLLBACK_COMPLETE and was not replaced" in refused.err

    aws.call("s3", "DeleteBucket", "eu-west-1", Bucket=f"clash-staging-site-{account}")
    replaced = cli(*config, "deploy", "staging", "--yes", *ep)
    assert replaced.code == 0, replaced.err
    assert _stack_status(aws, "eu-west-1", "clash-staging-edge") == "CREATE_COMPLETE"


def test_deploy_failure_carries_the_root_cause(local_aws, example_copy, tmp_path):
    account = _rename(example_copy, "cause")
    aws = Aws(embedded(local_aws.endpoint), account)
    aws.call("ecr", "CreateRepository", "eu-west-1", repositoryName="cause/staging")
    config = load_config(example_copy)
    assembly = synthesize(config, [config.environment("staging")], tmp_path / "out")[0]
    with pytest.raises(DeployFailed) as caught:
        deploy(aws, assembly, DeployOptions())
    assert caught.value.cause.logical_id.startswith("RegistryRepository")
    assert caught.value.where == "cause-staging-foundation"


def test_large_templates_go_through_s3(local_aws, example_copy, tmp_path):
    account = _rename(example_copy, "big")
    config = load_config(example_copy)
    assembly = synthesize(config, [config.environment("staging")], tmp_path / "out")[0]
    aws = Aws(embedded(local_aws.endpoint), account)
    results = deploy(aws, assembly, DeployOptions(inline_limit=1000))
    assert {r.outcome for r in results} == {"created"}
    from shipyard.deploy.changeset import template_body

    large = [s for s in assembly.stacks if len(template_body(s).encode()) > 1000]
    for region in {s.region for s in large}:  # one template bucket per region, as CloudFormation requires
        keys = aws.call("s3", "ListObjectsV2", region, Bucket=f"shipyard-templates-{account}-{region}")["Contents"]
        assert {k["Key"].split("/")[0] for k in keys} == {s.name for s in large if s.region == region}


def test_publish_site_syncs_by_content(cli, local_aws, example_copy):
    account = _rename(example_copy, "site")
    config, ep = ["--config", str(example_copy)], ["--endpoint", local_aws.endpoint]
    assert cli(*config, "deploy", "staging", *ep).code == 0
    first = cli(*config, "publish-site", "staging", *ep)
    assert first.code == 0 and "3 uploaded, 0 deleted, 0 unchanged; invalidation" in first.err
    second = cli(*config, "publish-site", "staging", *ep)
    assert "0 uploaded, 0 deleted, 3 unchanged; nothing to invalidate" in second.err

    site = example_copy.parent / "site"
    (site / "assets" / "style.css").write_text("body { color: black; }\n")
    (site / "assets" / "app.js").unlink()
    (site / "assets" / "app.0123abcd89.js").write_text("console.log('fingerprinted');\n")
    third = cli(*config, "publish-site", "staging", *ep)
    assert "2 uploaded, 1 deleted, 1 unchanged" in third.err
    assert "/assets/app.js" in third.err and "/assets/style.css" in third.err

    aws = Aws(embedded(local_aws.endpoint), account)
    head = aws.call("s3", "HeadObject", "eu-west-1", Bucket=f"site-staging-site-{account}", Key="assets/app.0123abcd89.js")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ContentType"].startswith("application/javascript") or head["ContentType"].startswith("text/javascript")
    index = aws.call("s3", "HeadObject", "eu-west-1", Bucket=f"site-staging-site-{account}", Key="index.html")
    assert index["CacheControl"] == "public, max-age=60, must-revalidate"
    assert index["ContentType"] == "text/html; charset=utf-8"


def test_destroy(cli, local_aws, example_copy):
    account = _rename(example_copy, "gone")
    config, ep = ["--config", str(example_copy)], ["--endpoint", local_aws.endpoint]
    assert cli(*config, "deploy", "staging", *ep).code == 0
    assert cli(*config, "publish-site", "staging", *ep).code == 0
    refused = cli(*config, "destroy", "production", *ep)
    assert refused.code == 2 and "its name was not typed, nothing was deleted" in refused.err

    result = cli(*config, "destroy", "staging", "--yes", *ep)
    assert result.code == 0, result.err
    assert ("deleted gone-staging-edge-alarms, gone-staging-edge, gone-staging-service, gone-staging-data, gone-staging-global, "
            "gone-staging-foundation") in result.err
    aws = Aws(embedded(local_aws.endpoint), account)
    with pytest.raises(ShipyardError, match="does not exist"):
        aws.call("cloudformation", "DescribeStacks", "eu-west-1", StackName="gone-staging-foundation")


def test_destroy_lists_what_production_retains(assemblies):
    from shipyard.deploy.destroy import retained_resources

    kept = {r.resource_type: r.why for r in retained_resources(assemblies["production"])}
    assert {"AWS::ECR::Repository", "AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::RDS::DBInstance"} <= set(kept)
    assert "final snapshot" in kept["AWS::RDS::DBInstance"]
    assert not retained_resources(assemblies["staging"])


def test_destroying_production_deletes_its_protected_database(local_aws, example_copy, tmp_path):
    from shipyard.deploy.destroy import destroy
    from shipyard.deploy.execute import DeployOptions, deploy

    config = load_config(example_copy)
    production = synthesize(config, config.select(["production"]), tmp_path / "out")[0]
    env = production.environment
    aws = Aws(embedded(local_aws.endpoint), env.account)
    deploy(aws, production, DeployOptions())
    instance = aws.call("rds", "DescribeDBInstances", env.region, DBInstanceIdentifier=env.names.database)["DBInstances"][0]
    assert instance["DeletionProtection"] is True
    assert env.names.data_stack in destroy(aws, production)
    with pytest.raises(ShipyardError, match=r"not found|DBInstanceNotFound"):
        aws.call("rds", "DescribeDBInstances", env.region, DBInstanceIdentifier=env.names.database)
