"""Check the live environment through the service APIs, never by reading our own templates.

Each live check (registered with @live_check) returns pass/fail with the
resource it looked at; `shipyard verify` exits non-zero when any fails. A live
check carries the id of the static rule (checks/rules) that guards the same
property in the template, so a finding reads the same before and after deploy.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.deploy.state import deployed_edge
from shipyard.synth import EnvironmentAssembly


@dataclass(frozen=True)
class LiveResult:
    id: str
    name: str
    passed: bool
    resource: str
    detail: str


class _Facts:
    """Identifiers the checks need, read from stack outputs and naming."""

    def __init__(self, aws: Aws, assembly: EnvironmentAssembly, repository: str) -> None:
        env = assembly.environment
        self.repository = repository
        self.env: Environment = env
        self.region = env.region
        edge = deployed_edge(aws, env)
        self.distribution_id = edge.distribution_id if edge else ""
        self.bucket = env.names.site_bucket


_Check = Callable[[Aws, "_Facts"], tuple[bool, str, str]]  # -> (passed, resource, detail)
LIVE_CHECKS: list[tuple[str, str, _Check]] = []


def live_check(rule_id: str, title: str) -> Callable[[_Check], _Check]:
    """Register a live check of the property static rule `rule_id` guards, under the title `verify` prints."""

    def register(function: _Check) -> _Check:
        LIVE_CHECKS.append((rule_id, title, function))
        return function

    return register


def _result(resource: str, passed: bool, detail: str) -> tuple[bool, str, str]:
    return passed, resource, detail


@live_check("SY-E101", "site bucket is private")
def bucket_private(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    try:
        block = aws.call("s3", "GetPublicAccessBlock", f.region, Bucket=f.bucket)["PublicAccessBlockConfiguration"]
    except AwsError as exc:
        if exc.code != "NoSuchPublicAccessBlockConfiguration":
            raise
        block = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    off = [k for k, v in block.items() if not v]
    acl = aws.call("s3", "GetBucketAcl", f.region, Bucket=f.bucket)
    owner = acl["Owner"].get("ID")
    foreign = [g for g in acl.get("Grants", []) if g["Grantee"].get("ID") != owner]
    detail = "public access block all on, no ACL grants beyond the owner"
    if off:
        detail = f"public access block off: {', '.join(off)}"
    elif foreign:
        detail = f"ACL grants to {', '.join(g['Grantee'].get('URI') or g['Grantee'].get('ID', '?') for g in foreign)}"
    return _result(f"s3://{f.bucket}", not off and not foreign, detail)


@live_check("SY-E103", "bucket policy allows only this distribution")
def bucket_policy_cloudfront_only(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    resource = f"s3://{f.bucket} policy"
    try:
        policy = json.loads(aws.call("s3", "GetBucketPolicy", f.region, Bucket=f.bucket)["Policy"])
    except AwsError as exc:
        return _result(resource, False, exc.what)
    expected_arn = f"arn:aws:cloudfront::{f.env.account}:distribution/{f.distribution_id}"
    problems = []
    allows = [s for s in policy.get("Statement", []) if s.get("Effect") == "Allow"]
    for statement in allows:
        principal = statement.get("Principal")
        source = statement.get("Condition", {}).get("StringEquals", {}).get("AWS:SourceArn")
        if principal != {"Service": "cloudfront.amazonaws.com"}:
            problems.append(f"allows {json.dumps(principal)}")
        elif source != expected_arn:
            problems.append(f"SourceArn is {source!r}, not {expected_arn}")
    if not allows:
        problems.append("no statement allows CloudFront to read")
    return _result(resource, not problems,
                  "; ".join(problems) or f"cloudfront.amazonaws.com with AWS:SourceArn {expected_arn}")


def _distribution_config(aws: Aws, f: _Facts) -> dict:
    return aws.call("cloudfront", "GetDistributionConfig", "us-east-1", Id=f.distribution_id)["DistributionConfig"]


@live_check("SY-E102", "S3 origin uses origin access control")
def s3_origin_uses_oac(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    config = _distribution_config(aws, f)
    s3_origins = [o for o in config["Origins"].get("Items", []) if o.get("S3OriginConfig") is not None]
    missing = [o["Id"] for o in s3_origins if not o.get("OriginAccessControlId")]
    detail = f"{len(s3_origins)} S3 origin(s) signed by origin access control"
    if missing:
        detail = f"S3 origin without origin access control: {', '.join(missing)}"
    else:
        for origin in s3_origins:
            try:
                aws.call("cloudfront", "GetOriginAccessControl", "us-east-1", Id=origin["OriginAccessControlId"])
            except AwsError as exc:
                missing.append(origin["Id"])
                detail = f"origin access control {origin['OriginAccessControlId']} not found: {exc.what}"
    return _result(f"distribution {f.distribution_id}",
                  bool(s3_origins) and not missing, detail if s3_origins else "no S3 origin")


@live_check("SY-E104", "viewers are redirected to HTTPS")
def viewers_use_https(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    config = _distribution_config(aws, f)
    behaviors = [config["DefaultCacheBehavior"], *(config.get("CacheBehaviors", {}).get("Items") or [])]
    plain = [b.get("PathPattern", "default") for b in behaviors
             if b.get("ViewerProtocolPolicy") not in ("redirect-to-https", "https-only")]
    return _result(f"distribution {f.distribution_id}", not plain,
                  f"plain HTTP allowed on {', '.join(plain)}" if plain else f"{len(behaviors)} behaviours redirect to HTTPS")


@live_check("SY-E105", "web ACL only where WAF is on")
def web_acl_where_enabled(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    acl = _distribution_config(aws, f).get("WebACLId") or ""
    if not f.env.waf:
        return _result(f"distribution {f.distribution_id}", not acl,
                      f"unexpected web ACL {acl}" if acl else "no web ACL (waf = false)")
    if not acl:
        return _result(f"distribution {f.distribution_id}", False, "no web ACL attached")
    name, acl_id = acl.split("/")[-2:]
    try:
        rules = aws.call("wafv2", "GetWebACL", "us-east-1", Name=name, Scope="CLOUDFRONT", Id=acl_id)["WebACL"]["Rules"]
    except AwsError as exc:
        return _result(acl, False, f"attached web ACL not found: {exc.what}")
    managed = [r["Name"] for r in rules if "ManagedRuleGroupStatement" in r.get("Statement", {})]
    return _result(acl, bool(managed), f"{len(rules)} rules, managed: {', '.join(managed)}")


@live_check("SY-E401", "repository: immutable tags, scan on push")
def repository_immutable_and_scanned(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.repository
    repo = aws.call("ecr", "DescribeRepositories", f.region, repositoryNames=[name])["repositories"][0]
    mutable = repo.get("imageTagMutability") != "IMMUTABLE"
    unscanned = not repo.get("imageScanningConfiguration", {}).get("scanOnPush")
    detail = ", ".join(p for p, bad in (("tags are mutable", mutable), ("no scan on push", unscanned)) if bad)
    return _result(repo["repositoryUri"], not (mutable or unscanned),
                  detail or "immutable tags, scan on push")


@live_check("SY-E502", "service: circuit breaker with rollback")
def service_rolls_back(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    names = f.env.names
    services = aws.call("ecs", "DescribeServices", f.region, cluster=names.cluster, services=[names.service])["services"]
    if not services:
        return _result(f"{names.cluster}/{names.service}", False, "service not found")
    breaker = services[0].get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    ok = bool(breaker.get("enable")) and bool(breaker.get("rollback"))
    return _result(services[0]["serviceArn"], ok,
                  "enabled with rollback" if ok else f"deploymentCircuitBreaker is {breaker or 'off'}")


@live_check("SY-E201", "load balancer reachable only through CloudFront")
def load_balancer_only_from_cloudfront(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.load_balancer
    lb = aws.call("elbv2", "DescribeLoadBalancers", f.region, Names=[name])["LoadBalancers"][0]
    problems = []
    if lb.get("Scheme") != "internal":
        problems.append(f"scheme is {lb.get('Scheme')}")
    subnet_ids = [z["SubnetId"] for z in lb.get("AvailabilityZones", [])]
    subnets = aws.call("ec2", "DescribeSubnets", f.region, SubnetIds=subnet_ids)["Subnets"] if subnet_ids else []
    own = [ipaddress.ip_network(s["CidrBlock"]) for s in subnets]
    groups = aws.call("ec2", "DescribeSecurityGroups", f.region, GroupIds=lb.get("SecurityGroups", []))["SecurityGroups"]
    for group in groups:
        for permission in group.get("IpPermissions", []):
            for ip_range in permission.get("IpRanges", []):
                network = ipaddress.ip_network(ip_range["CidrIp"])
                if not any(network.subnet_of(o) for o in own):
                    problems.append(f"{group['GroupId']} admits {network}")
            for ip_range in permission.get("Ipv6Ranges", []):
                problems.append(f"{group['GroupId']} admits {ip_range['CidrIpv6']}")
            for pair in permission.get("UserIdGroupPairs", []):
                problems.append(f"{group['GroupId']} admits security group {pair.get('GroupId')}")
    return _result(lb["LoadBalancerArn"], not problems,
                  "; ".join(problems) or "internal; admits only its own subnets (the VPC origin's interfaces)")


@live_check("SY-E301", "deploy role trusts exactly this repository and environment")
def deploy_role_exact_subject(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.deploy_role
    role = aws.call("iam", "GetRole", "us-east-1", RoleName=name)["Role"]
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    expected = f"repo:{f.repository}:environment:{f.env.name}"
    problems = []
    for statement in document.get("Statement", []):
        conditions = statement.get("Condition", {})
        equals = conditions.get("StringEquals", {})
        if set(conditions) - {"StringEquals"}:
            problems.append(f"uses {', '.join(sorted(set(conditions) - {'StringEquals'}))}")
        if equals.get("token.actions.githubusercontent.com:sub") != expected:
            problems.append(f"sub is {equals.get('token.actions.githubusercontent.com:sub')!r}")
        if equals.get("token.actions.githubusercontent.com:aud") != "sts.amazonaws.com":
            problems.append("aud is not sts.amazonaws.com")
    return _result(role["Arn"], not problems,
                  "; ".join(problems) or f"StringEquals sub {expected}")


def verify(aws: Aws, assembly: EnvironmentAssembly, repository: str) -> list[LiveResult]:
    facts = _Facts(aws, assembly, repository)
    results = []
    for rule_id, title, function in LIVE_CHECKS:
        try:
            passed, resource, detail = function(aws, facts)
        except AwsError as exc:
            passed, resource, detail = False, exc.where, exc.what
        results.append(LiveResult(rule_id, title, passed, resource, detail))
    return results
