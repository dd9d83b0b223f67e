"""The example app synthesized end to end: stacks, environments, reference-design bugs, cfn-lint, snapshots."""

from __future__ import annotations

import json

import pytest

from shipyard.checks.lint import Linter
from shipyard.snapshot import normalize

from .conftest import EXAMPLE_CONFIG, ROOT


def _resources(template: dict, type_: str) -> list[dict]:
    return [r.get("Properties", {}) for r in template.get("Resources", {}).values() if r["Type"] == type_]


def _all_resources(templates: dict, type_: str) -> list[dict]:
    return [p for t in templates.values() for p in _resources(t, type_)]


def test_stacks_in_deploy_order(assemblies):
    staging = [s.name for s in assemblies["staging"].stacks]
    production = [s.name for s in assemblies["production"].stacks]
    assert staging == ["webapp-staging-foundation", "webapp-staging-global", "webapp-staging-data", "webapp-staging-service",
                       "webapp-staging-edge", "webapp-staging-edge-alarms"]
    assert production == ["webapp-production-foundation", "webapp-production-global", "webapp-production-data",
                          "webapp-production-service", "webapp-production-edge", "webapp-production-edge-alarms"]
    edge = assemblies["production"].stack("webapp-production-edge")
    assert set(edge.depends_on) == {"webapp-production-foundation", "webapp-production-global"}
    # The service never waits on CloudFront; it takes the database's secret and settings.
    assert set(assemblies["production"].stack("webapp-production-service").depends_on) == {
        "webapp-production-foundation", "webapp-production-data"}
    assert assemblies["production"].stack("webapp-production-data").depends_on == ("webapp-production-foundation",)


def test_every_stack_has_an_explicit_account_and_region(assemblies):
    """Reference bug 2: a missing provider block left region and credentials to chance."""
    for assembly in assemblies.values():
        manifest = json.loads((assembly.directory / "manifest.json").read_text())
        for stack in assembly.stacks:
            expected_region = "us-east-1" if stack.name.endswith(("-global", "-edge-alarms")) else "eu-west-1"
            assert manifest["artifacts"][stack.name]["environment"] == f"aws://{assembly.environment.account}/{expected_region}"
            assert stack.region == expected_region
    assert assemblies["staging"].environment.account != assemblies["production"].environment.account


def test_no_dangling_reference(assemblies, templates):
    """Reference bug 1: a reference to a resource that did not exist. Synth passed; every Ref resolves."""
    pseudo = {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix", "AWS::StackName", "AWS::StackId",
              "AWS::NoValue"}

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref":
                    yield value
                elif key == "Fn::GetAtt":
                    yield value[0]
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for name, template in templates.items():
        known = set(template.get("Resources", {})) | set(template.get("Parameters", {})) | pseudo
        missing = {r for r in refs(template) if r not in known}
        assert not missing, f"{name} refers to {missing}"


def test_bucket_never_public(templates):
    """Reference bug 3: a public-read ACL on the site bucket."""
    buckets = _all_resources(templates, "AWS::S3::Bucket")
    assert len(buckets) == 4  # site and access-log bucket per environment
    for bucket in buckets:
        assert "AccessControl" not in bucket
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        assert bucket["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    for policy in _all_resources(templates, "AWS::S3::BucketPolicy"):
        for statement in policy["PolicyDocument"]["Statement"]:
            if statement["Effect"] != "Allow":
                continue
            assert statement["Principal"] not in ("*", {"AWS": "*"})
            if statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}:
                assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]


def test_s3_origin_uses_oac_scoped_by_source_arn(templates):
    """Reference bug 4: an S3 origin without origin access control for a private bucket."""
    for env in ("staging", "production"):
        edge = templates[f"webapp-{env}-edge"]
        assert _resources(edge, "AWS::CloudFront::OriginAccessControl")
        assert not _resources(edge, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
        distribution = _resources(edge, "AWS::CloudFront::Distribution")[0]["DistributionConfig"]
        s3_origins = [o for o in distribution["Origins"] if "S3OriginConfig" in o]
        assert len(s3_origins) == 1 and "OriginAccessControlId" in s3_origins[0]


def test_web_acl_only_in_production(templates):
    assert not _all_resources({k: v for k, v in templates.items() if "staging" in k}, "AWS::WAFv2::WebACL")
    staging_edge = _resources(templates["webapp-staging-edge"], "AWS::CloudFront::Distribution")[0]["DistributionConfig"]
    assert "WebACLId" not in staging_edge
    acl = _resources(templates["webapp-production-global"], "AWS::WAFv2::WebACL")
    assert len(acl) == 1 and acl[0]["Scope"] == "CLOUDFRONT"
    production_edge = templates["webapp-production-edge"]
    config = _resources(production_edge, "AWS::CloudFront::Distribution")[0]["DistributionConfig"]
    assert config["WebACLId"] == {"Ref": "WebAclArn"}
    assert "WebAclArn" in production_edge["Parameters"]


def test_cross_region_parameter_wiring(assemblies):
    edge = assemblies["production"].stack("webapp-production-edge")
    assert edge.parameters_from == {"WebAclArn": ("webapp-production-global", "WebAclArn")}
    alarms = assemblies["production"].stack("webapp-production-edge-alarms")
    assert alarms.parameters_from == {"DistributionId": ("webapp-production-edge", "DistributionId")}
    assert set(alarms.depends_on) == {"webapp-production-edge", "webapp-production-global"}
    global_outputs = assemblies["production"].stack("webapp-production-global").template()["Outputs"]
    assert "WebAclArn" in global_outputs


@pytest.mark.parametrize(("env", "count", "cpu", "memory", "max_count"), [
    ("staging", 2, "256", "512", 4), ("production", 4, "512", "1024", 10)])
def test_sizes_counts_and_autoscaling(templates, env, count, cpu, memory, max_count):
    service_stack = templates[f"webapp-{env}-service"]
    task = _resources(service_stack, "AWS::ECS::TaskDefinition")[0]
    assert (task["Cpu"], task["Memory"]) == (cpu, memory)
    service = _resources(service_stack, "AWS::ECS::Service")[0]
    assert service["DesiredCount"]["Fn::If"][1:] == [{"Ref": "AWS::NoValue"}, 0]  # the target's minimum owns the count
    target = _resources(service_stack, "AWS::ApplicationAutoScaling::ScalableTarget")[0]
    assert target["MinCapacity"]["Fn::If"][1] == count and target["MaxCapacity"] == max_count
    policy = _resources(service_stack, "AWS::ApplicationAutoScaling::ScalingPolicy")[0]
    assert policy["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] == 70


def test_no_lambda_backed_custom_resources(templates):
    for name, template in templates.items():
        types = {r["Type"] for r in template["Resources"].values()}
        assert "AWS::Lambda::Function" not in types, name
        assert not any(t.startswith("Custom::") or t == "AWS::CloudFormation::CustomResource" for t in types), name


def test_cfn_lint_reports_no_errors(assemblies):
    # Through check's own cfn-lint layer: one rule set per worker, and a template linted before (same content, same
    # cfn-lint and shipyard) is read from the result cache instead of linted again.
    with Linter() as linter:
        pending = [(stack, linter.submit(stack.template_path.read_text(), stack.region))
                   for assembly in assemblies.values() for stack in assembly.stacks]
        for stack, lint in pending:
            errors = [(rule, resource, message) for rule, resource, message in lint.result() if rule.startswith("E")]
            assert not errors, f"{stack.name}: {errors}"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_snapshot(assemblies, env):
    expected = (ROOT / "tests" / "snapshots" / f"{env}.json").read_text()
    assert normalize(assemblies[env]) == expected, "blueprint changed: review, then run python scripts/update_snapshots.py"


def test_synth_command(cli, tmp_path):
    result = cli("--config", str(EXAMPLE_CONFIG), "synth", "staging", "--out", str(tmp_path))
    assert result.code == 0, result.err
    assert "webapp-staging-service" in result.out
    assert "webapp-production" not in result.out
    assert (tmp_path / "staging" / "webapp-staging-foundation.template.json").exists()
    assert (tmp_path / "staging" / "shipyard.json").exists()


def test_one_minute_5xx_alarm_is_the_deployment_alarm_and_staging_runs_on_spot(templates):
    for env in ("staging", "production"):
        resources = templates[f"webapp-{env}-service"]["Resources"]
        service = _resources(templates[f"webapp-{env}-service"], "AWS::ECS::Service")[0]
        alarms = service["DeploymentConfiguration"]["Alarms"]
        assert alarms["Enable"] is True and alarms["Rollback"] is True
        name = next(k for k in resources if k.startswith("ObservabilityDeployment5XxRate"))
        assert alarms["AlarmNames"] == [{"Ref": name}]
        # The bake time follows the alarm's window: one minute, one evaluation (decisions.md §18).
        deployment_alarm = resources[name]["Properties"]
        assert deployment_alarm["EvaluationPeriods"] == 1
        assert {m["MetricStat"]["Period"] for m in deployment_alarm["Metrics"] if "MetricStat" in m} == {60}
    staging = _resources(templates["webapp-staging-service"], "AWS::ECS::Service")[0]
    # ARM64 on Spot: one capacity provider strategy, on the platform version that runs it.
    assert staging["CapacityProviderStrategy"] == [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}]
    assert staging["PlatformVersion"] == "1.4.0"
    task = _resources(templates["webapp-staging-service"], "AWS::ECS::TaskDefinition")[0]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    production = _resources(templates["webapp-production-service"], "AWS::ECS::Service")[0]
    assert "CapacityProviderStrategy" not in production and production["PlatformVersion"] == "1.4.0"
    assert len(_resources(templates["webapp-production-global"], "AWS::Budgets::Budget")) == 1


def test_awake_hours_are_two_scheduled_actions_in_the_schedules_time_zone(templates):
    target = _resources(templates["webapp-staging-service"], "AWS::ApplicationAutoScaling::ScalableTarget")[0]
    wake, sleep = target["ScheduledActions"]
    assert wake["Schedule"] == "cron(0 7 ? * MON,TUE,WED,THU,FRI *)" and wake["Timezone"] == "UTC"
    assert wake["ScalableTargetAction"] == {"MinCapacity": {"Fn::If": ["WebHasImageD546D3BB", 2, 0]}, "MaxCapacity": 4}
    assert sleep["Schedule"] == "cron(0 20 ? * MON,TUE,WED,THU,FRI *)" and sleep["Timezone"] == "UTC"
    assert sleep["ScalableTargetAction"] == {"MinCapacity": 0, "MaxCapacity": 0}
    production = _resources(templates["webapp-production-service"], "AWS::ApplicationAutoScaling::ScalableTarget")[0]
    assert "ScheduledActions" not in production


def test_ecs_exec_is_on_in_staging_and_off_in_production(templates):
    staging = _resources(templates["webapp-staging-service"], "AWS::ECS::Service")[0]
    assert staging["EnableExecuteCommand"] is True
    cluster = _resources(templates["webapp-staging-service"], "AWS::ECS::Cluster")[0]
    assert cluster["Configuration"]["ExecuteCommandConfiguration"]["Logging"] == "OVERRIDE"
    production = _resources(templates["webapp-production-service"], "AWS::ECS::Service")[0]
    assert not production.get("EnableExecuteCommand")
    policies = [json.dumps(p) for p in _resources(templates["webapp-production-service"], "AWS::IAM::Policy")]
    assert not any("ssmmessages" in p for p in policies)  # the task role gets the channels only where exec is on
