"""What an attacker (or a hurried operator) changes through the AWS API, verify names.

Each case tampers with the deployed production environment through the service's own API, runs verify, expects
the live check that guards that property to fail and to name what changed, then undoes the tamper; verify must
pass again before the next case, so every case starts from the environment the blueprint made.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest

from shipyard.deploy.state import deployed_edge
from shipyard.deploy.verify import verify

from ..conftest import example_in_accounts, own_example_fixtures

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


@pytest.fixture(scope="module")
def own_production(local_aws, own_accounts, tmp_path_factory):
    """The example's production in accounts of its own: some tampers cannot be undone exactly (a log delivery deleted
    and created again has a new id, which the stack does not know), and the modules that share the example's
    deployment must not meet them. Every case tampers with production and none with its database, so only production
    is deployed, without a database."""
    return example_in_accounts(local_aws, own_accounts, tmp_path_factory, ["production"], database=False)


example_config, assemblies, deployed = own_example_fixtures("own_production")

REGION = "eu-west-1"
Undo = Callable[[], None]


def _bucket_policy(aws, env, change: Callable[[dict], None]) -> Undo:
    bucket = env.names.site_bucket
    original = aws.call("s3", "GetBucketPolicy", REGION, Bucket=bucket)["Policy"]
    policy = json.loads(original)
    change(policy)
    aws.call("s3", "PutBucketPolicy", REGION, Bucket=bucket, Policy=json.dumps(policy))
    return lambda: aws.call("s3", "PutBucketPolicy", REGION, Bucket=bucket, Policy=original)


def public_access_block_off(aws, env) -> Undo:
    bucket = env.names.site_bucket
    original = aws.call("s3", "GetPublicAccessBlock", REGION, Bucket=bucket)["PublicAccessBlockConfiguration"]
    aws.call("s3", "PutPublicAccessBlock", REGION, Bucket=bucket, PublicAccessBlockConfiguration={k: False for k in original})
    return lambda: aws.call("s3", "PutPublicAccessBlock", REGION, Bucket=bucket, PublicAccessBlockConfiguration=original)


def source_arn_dropped(aws, env) -> Undo:
    def change(policy):
        for statement in policy["Statement"]:
            if statement["Effect"] == "Allow":
                statement.pop("Condition", None)
    return _bucket_policy(aws, env, change)


def bucket_readable_by_anyone(aws, env) -> Undo:
    return _bucket_policy(aws, env, lambda policy: policy["Statement"].append(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{env.names.site_bucket}/*"}))


def tls_deny_deleted(aws, env) -> Undo:
    return _bucket_policy(aws, env, lambda policy: policy.update(Statement=[s for s in policy["Statement"] if s["Effect"] != "Deny"]))


def _distribution(aws, env, change: Callable[[dict], None]) -> Undo:
    distribution = deployed_edge(aws, env).distribution_id
    found = aws.call("cloudfront", "GetDistributionConfig", "us-east-1", Id=distribution)
    original = copy.deepcopy(found["DistributionConfig"])
    config = found["DistributionConfig"]
    change(config)
    update = aws.call("cloudfront", "UpdateDistribution", "us-east-1", Id=distribution, IfMatch=found["ETag"], DistributionConfig=config)

    def undo() -> None:
        aws.call("cloudfront", "UpdateDistribution", "us-east-1", Id=distribution, IfMatch=update["ETag"], DistributionConfig=original)
    return undo


def web_acl_removed(aws, env) -> Undo:
    return _distribution(aws, env, lambda config: config.update(WebACLId=""))


def plain_http_allowed(aws, env) -> Undo:
    return _distribution(aws, env, lambda config: config["DefaultCacheBehavior"].update(ViewerProtocolPolicy="allow-all"))


def _web_acl(aws, env, change: Callable[[list], list]) -> Undo:
    acl = aws.call("wafv2", "ListWebACLs", "us-east-1", Scope="CLOUDFRONT")["WebACLs"]
    summary = next(a for a in acl if a["Name"] == env.names.web_acl)
    found = aws.call("wafv2", "GetWebACL", "us-east-1", Name=summary["Name"], Scope="CLOUDFRONT", Id=summary["Id"])
    web_acl = found["WebACL"]
    original = copy.deepcopy(web_acl["Rules"])

    def put(rules, token) -> str:
        return aws.call("wafv2", "UpdateWebACL", "us-east-1", Name=web_acl["Name"], Scope="CLOUDFRONT", Id=web_acl["Id"],
                        DefaultAction=web_acl["DefaultAction"], Rules=rules, VisibilityConfig=web_acl["VisibilityConfig"],
                        LockToken=token)["NextLockToken"]

    token = put(change(copy.deepcopy(web_acl["Rules"])), found["LockToken"])
    return lambda: put(original, token)


def managed_rules_counting(aws, env) -> Undo:
    def change(rules):
        for rule in rules:
            if "ManagedRuleGroupStatement" in rule["Statement"]:
                rule["OverrideAction"] = {"Count": {}}
        return rules
    return _web_acl(aws, env, change)


def rate_rule_removed(aws, env) -> Undo:
    return _web_acl(aws, env, lambda rules: [r for r in rules if "RateBasedStatement" not in r["Statement"]])


def _load_balancer_group(aws, env) -> str:
    return aws.call("elbv2", "DescribeLoadBalancers", REGION, Names=[env.names.load_balancer])["LoadBalancers"][0]["SecurityGroups"][0]


def _task_group(aws, env) -> str:
    service = aws.call("ecs", "DescribeServices", REGION, cluster=env.names.cluster, services=[env.names.service])["services"][0]
    return service["networkConfiguration"]["awsvpcConfiguration"]["securityGroups"][0]


def _open(aws, group: str, permission: dict) -> Undo:
    aws.call("ec2", "AuthorizeSecurityGroupIngress", REGION, GroupId=group, IpPermissions=[permission])
    return lambda: aws.call("ec2", "RevokeSecurityGroupIngress", REGION, GroupId=group, IpPermissions=[permission])


def load_balancer_open_to_the_world(aws, env) -> Undo:
    return _open(aws, _load_balancer_group(aws, env), {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})


def load_balancer_open_to_ipv6(aws, env) -> Undo:
    return _open(aws, _load_balancer_group(aws, env), {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})


def load_balancer_open_through_a_prefix_list(aws, env) -> Undo:
    listed = aws.call("ec2", "CreateManagedPrefixList", REGION, PrefixListName="everyone", MaxEntries=2, AddressFamily="IPv4",
                      Entries=[{"Cidr": "0.0.0.0/0"}])["PrefixList"]["PrefixListId"]
    close = _open(aws, _load_balancer_group(aws, env), {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "PrefixListIds": [{"PrefixListId": listed}]})

    def undo() -> None:
        close()
        aws.call("ec2", "DeleteManagedPrefixList", REGION, PrefixListId=listed)
    return undo


def tasks_open_to_the_world(aws, env) -> Undo:
    return _open(aws, _task_group(aws, env), {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8000, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})


def _trust(aws, env, change: Callable[[dict], None], *, role: str | None = None) -> Undo:
    from urllib.parse import unquote

    role = role or env.names.deploy_role
    document = aws.call("iam", "GetRole", "us-east-1", RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    original = json.loads(unquote(document)) if isinstance(document, str) else document
    changed = copy.deepcopy(original)
    change(changed)
    aws.call("iam", "UpdateAssumeRolePolicy", "us-east-1", RoleName=role, PolicyDocument=json.dumps(changed))
    return lambda: aws.call("iam", "UpdateAssumeRolePolicy", "us-east-1", RoleName=role, PolicyDocument=json.dumps(original))


def wildcard_subject(aws, env) -> Undo:
    return _trust(aws, env, lambda d: d["Statement"][0]["Condition"]["StringEquals"].update(
        {"token.actions.githubusercontent.com:sub": "repo:acme/*"}))


def string_like_subject(aws, env) -> Undo:
    def change(document):
        condition = document["Statement"][0]["Condition"]
        condition["StringLike"] = {"token.actions.githubusercontent.com:sub": condition["StringEquals"].pop("token.actions.githubusercontent.com:sub")}
    return _trust(aws, env, change)


def extra_trust_statement(aws, env) -> Undo:
    return _trust(aws, env, lambda d: d["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}))


def trust_principal_swapped(aws, env) -> Undo:
    return _trust(aws, env, lambda d: d["Statement"][0].update(
        Principal={"Federated": "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"}))


def traffic_shift_trust_unconditioned(aws, env) -> Undo:
    def change(document):
        assert document["Statement"][0]["Condition"], "the blueprint's traffic-shift trust has conditions to remove"
        del document["Statement"][0]["Condition"]
    return _trust(aws, env, change, role=env.names.traffic_role)


def _escalate(aws, role: str) -> Undo:
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    aws.call("iam", "PutRolePolicy", "us-east-1", RoleName=role, PolicyName="escalate", PolicyDocument=json.dumps(document))
    return lambda: aws.call("iam", "DeleteRolePolicy", "us-east-1", RoleName=role, PolicyName="escalate")


def deploy_role_given_everything(aws, env) -> Undo:
    return _escalate(aws, env.names.deploy_role)


def task_role_given_everything(aws, env) -> Undo:
    return _escalate(aws, env.names.task_role)


def repository_policy_public(aws, env) -> Undo:
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}]}
    aws.call("ecr", "SetRepositoryPolicy", REGION, repositoryName=env.names.repository, policyText=json.dumps(policy))
    return lambda: aws.call("ecr", "DeleteRepositoryPolicy", REGION, repositoryName=env.names.repository)


def scan_on_push_off(aws, env) -> Undo:
    name = env.names.repository
    aws.call("ecr", "PutImageScanningConfiguration", REGION, repositoryName=name, imageScanningConfiguration={"scanOnPush": False})
    return lambda: aws.call("ecr", "PutImageScanningConfiguration", REGION, repositoryName=name, imageScanningConfiguration={"scanOnPush": True})


def mutable_tags(aws, env) -> Undo:
    name = env.names.repository
    aws.call("ecr", "PutImageTagMutability", REGION, repositoryName=name, imageTagMutability="MUTABLE")
    return lambda: aws.call("ecr", "PutImageTagMutability", REGION, repositoryName=name, imageTagMutability="IMMUTABLE")


def _breaker(aws, env, **change: bool) -> Undo:
    names = env.names
    service = aws.call("ecs", "DescribeServices", REGION, cluster=names.cluster, services=[names.service])["services"][0]
    original = service["deploymentConfiguration"]["deploymentCircuitBreaker"]
    aws.call("ecs", "UpdateService", REGION, cluster=names.cluster, service=names.service,
             deploymentConfiguration={**service["deploymentConfiguration"], "deploymentCircuitBreaker": {**original, **change}})
    return lambda: aws.call("ecs", "UpdateService", REGION, cluster=names.cluster, service=names.service,
                            deploymentConfiguration={**service["deploymentConfiguration"], "deploymentCircuitBreaker": original})


def circuit_breaker_off(aws, env) -> Undo:
    return _breaker(aws, env, enable=False)


def circuit_breaker_rollback_off(aws, env) -> Undo:
    return _breaker(aws, env, rollback=False)


def alarm_actions_disabled(aws, env) -> Undo:
    found = aws.call("cloudwatch", "DescribeAlarms", REGION, AlarmNamePrefix=f"{env.names.prefix}-",
                     AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    names = [a["AlarmName"] for a in found["MetricAlarms"] + found["CompositeAlarms"]]
    aws.call("cloudwatch", "DisableAlarmActions", REGION, AlarmNames=names)
    return lambda: aws.call("cloudwatch", "EnableAlarmActions", REGION, AlarmNames=names)


def exec_switched_on(aws, env) -> Undo:
    names = env.names
    aws.call("ecs", "UpdateService", REGION, cluster=names.cluster, service=names.service, enableExecuteCommand=True)
    return lambda: aws.call("ecs", "UpdateService", REGION, cluster=names.cluster, service=names.service,
                            enableExecuteCommand=False)


def log_retention_removed(aws, env) -> Undo:
    group = aws.call("logs", "DescribeLogGroups", REGION, logGroupNamePrefix=env.names.log_group)["logGroups"][0]
    aws.call("logs", "DeleteRetentionPolicy", REGION, logGroupName=group["logGroupName"])
    return lambda: aws.call("logs", "PutRetentionPolicy", REGION, logGroupName=group["logGroupName"],
                            retentionInDays=group["retentionInDays"])


def invalid_headers_kept(aws, env) -> Undo:
    arn = aws.call("elbv2", "DescribeLoadBalancers", REGION, Names=[env.names.load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]
    key = "routing.http.drop_invalid_header_fields.enabled"
    aws.call("elbv2", "ModifyLoadBalancerAttributes", REGION, LoadBalancerArn=arn, Attributes=[{"Key": key, "Value": "false"}])
    return lambda: aws.call("elbv2", "ModifyLoadBalancerAttributes", REGION, LoadBalancerArn=arn,
                            Attributes=[{"Key": key, "Value": "true"}])


def edge_logs_stopped(aws, env) -> Undo:
    deliveries = aws.call("logs", "DescribeDeliveries", "us-east-1")["deliveries"]
    delivery = next(d for d in deliveries if d["deliverySourceName"] == f"{env.names.prefix}-cloudfront")
    aws.call("logs", "DeleteDelivery", "us-east-1", id=delivery["id"])
    return lambda: aws.call("logs", "CreateDelivery", "us-east-1", deliverySourceName=delivery["deliverySourceName"],
                            deliveryDestinationArn=delivery["deliveryDestinationArn"])


# (tamper, id of the live check that must fail, text its detail must contain)
TAMPERS = [
    (public_access_block_off, "SY-E101", "public access block off"),
    (source_arn_dropped, "SY-E103", "SourceArn is None"),
    (bucket_readable_by_anyone, "SY-E103", 'allows "*"'),
    (tls_deny_deleted, "SY-E107", "no Deny of requests without TLS"),
    (web_acl_removed, "SY-E105", "no web ACL attached"),
    (plain_http_allowed, "SY-E104", "plain HTTP allowed"),
    (managed_rules_counting, "SY-E106", "overridden to Count"),
    (rate_rule_removed, "SY-E106", "no rate-based rule that blocks"),
    (load_balancer_open_to_the_world, "SY-E201", "admits 0.0.0.0/0"),
    (load_balancer_open_to_ipv6, "SY-E201", "admits ::/0"),
    (load_balancer_open_through_a_prefix_list, "SY-E201", "(holding 0.0.0.0/0)"),
    (tasks_open_to_the_world, "SY-E202", "admits 0.0.0.0/0"),
    (wildcard_subject, "SY-E301", "sub is 'repo:acme/*'"),
    (string_like_subject, "SY-E301", "uses StringLike"),
    (extra_trust_statement, "SY-E301", "2 trust statements"),
    (trust_principal_swapped, "SY-E301", "trusts {\"Federated\": \"arn:aws:iam::999999999999"),
    (traffic_shift_trust_unconditioned, "SY-E302", "traffic-shift: trust policy differs"),
    (deploy_role_given_everything, "SY-E302", 'github-deploy: extra {"Action": "*"'),
    (task_role_given_everything, "SY-E302", 'task: extra {"Action": "*"'),
    (repository_policy_public, "SY-E402", "allows Principal '*'"),
    (scan_on_push_off, "SY-E401", "no scan on push"),
    (mutable_tags, "SY-E401", "tags are mutable"),
    (circuit_breaker_off, "SY-E502", "'enable': False"),
    (circuit_breaker_rollback_off, "SY-E502", "'rollback': False"),
    (log_retention_removed, "SY-E901", "/RetentionInDays: expected 90, actual null"),
    (invalid_headers_kept, "SY-E901", "/LoadBalancerAttributes/"),
    (edge_logs_stopped, "SY-E110", "no log delivery"),
    (alarm_actions_disabled, "SY-E602", "slo-burn: actions disabled"),
    (exec_switched_on, "SY-W504", "enableExecuteCommand is True; shipyard.toml's ecs_exec is False"),
]


def _failures(deployed, assemblies, example_config, *, drift: bool = True) -> dict[str, list[str]]:
    failed: dict[str, list[str]] = {}
    for result in verify(deployed["production"], assemblies["production"], example_config.app, drift=drift):
        if not result.passed:
            failed.setdefault(result.id, []).append(result.detail)
    return failed


def test_the_table_holds_every_tamper_of_the_review():
    assert len(TAMPERS) >= 22


@pytest.fixture(scope="module")
def as_deployed(deployed, assemblies, example_config):
    """Production passes verify before the first tamper; each case then proves its undo restored it (so the next case
    starts from the environment as deployed too)."""
    assert _failures(deployed, assemblies, example_config) == {}, "the environment is not as deployed before the tampers"
    return deployed


@pytest.mark.parametrize(("tamper", "rule_id", "named"), TAMPERS, ids=[t[0].__name__ for t in TAMPERS])
def test_verify_names_each_tamper(as_deployed, assemblies, example_config, tamper, rule_id, named):
    deployed = as_deployed
    # Drift detection reads every resource of every stack: it runs for the cases it is to catch (and before the first
    # case), the others are each caught by a rule of their own.
    drift = rule_id == "SY-E901"
    undo = tamper(deployed["production"], assemblies["production"].environment)
    try:
        failed = _failures(deployed, assemblies, example_config, drift=drift)
        assert rule_id in failed, f"verify missed {tamper.__name__}; it failed {failed}"
        assert any(named in detail for detail in failed[rule_id]), failed[rule_id]
    finally:
        undo()
    assert _failures(deployed, assemblies, example_config, drift=drift) == {}, "the undo did not restore the environment"
