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
from shipyard.blueprint.identity import GITHUB_OIDC_HOST
from shipyard.checks.base import StackView
from shipyard.checks.rules import cloudfront_hsts, ecr_repository_policy, s3_deny_insecure_transport, web_acl_rules_block
from shipyard.checks.rules.cloudfront_viewer_tls import viewer_tls_problems
from shipyard.config import AppConfig, Environment
from shipyard.deploy.drift import role_drift
from shipyard.deploy.state import deployed_edge, edge_url, read_stack
from shipyard.naming import Output
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

    def __init__(self, aws: Aws, assembly: EnvironmentAssembly, app: AppConfig) -> None:
        env = assembly.environment
        self.app = app
        self.env: Environment = env
        self.region = env.region
        edge = deployed_edge(aws, env)
        self.distribution_id = edge.distribution_id if edge else ""
        self.distribution_domain = edge.domain if edge else ""
        self.bucket = env.names.site_bucket
        self.assembly = assembly
        self._service: dict | None = None

    def service(self, aws: Aws) -> dict | None:
        if self._service is None:
            names = self.env.names
            found = aws.call("ecs", "DescribeServices", self.region, cluster=names.cluster, services=[names.service])["services"]
            self._service = found[0] if found else {}
        return self._service or None


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


def _static(rule, resource_type: str, properties: dict) -> list[str]:
    """The static rule's findings on one live resource, read through its API in the template's shape."""
    view = StackView("live", False, "live", {"Resources": {"Live": {"Type": resource_type, "Properties": properties}}})
    return [v.message for v in rule.RULE.check(view)]


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


def _bucket_policy(aws: Aws, f: _Facts) -> dict:
    return json.loads(aws.call("s3", "GetBucketPolicy", f.region, Bucket=f.bucket)["Policy"])


@live_check("SY-E103", "bucket policy allows only this distribution")
def bucket_policy_cloudfront_only(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    resource = f"s3://{f.bucket} policy"
    policy = _bucket_policy(aws, f)
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


@live_check("SY-E107", "bucket denies requests without TLS")
def bucket_requires_tls(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    resource = f"s3://{f.bucket} policy"
    ok = s3_deny_insecure_transport.denies_insecure_transport(_bucket_policy(aws, f))
    return _result(resource, ok, "denies s3:* when aws:SecureTransport is false" if ok else "no Deny of requests without TLS")


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


@live_check("SY-E108", "custom domain: certificate, TLS policy and DNS")
def domain_served_right(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    import datetime

    config = _distribution_config(aws, f)
    env = f.env
    if not env.domain:
        problems = viewer_tls_problems(config, certificate_region=None)
        return _result(f"distribution {f.distribution_id}", not problems, "; ".join(problems) or "no custom domain (the cloudfront.net name)")
    certificate = config.get("ViewerCertificate") or {}
    arn = certificate.get("ACMCertificateArn", "")
    problems = viewer_tls_problems(config, certificate_region=arn.split(":")[3] if arn.startswith("arn:") else None)
    aliases = set((config.get("Aliases") or {}).get("Items") or [])
    if aliases != set(env.domain_names):
        problems.append(f"aliases are {sorted(aliases)}, not {list(env.domain_names)}")
    if arn:
        described = aws.call("acm", "DescribeCertificate", "us-east-1", CertificateArn=arn)["Certificate"]
        covered = {described.get("DomainName"), *described.get("SubjectAlternativeNames", [])}
        if described["Status"] != "ISSUED":
            problems.append(f"certificate {arn} is {described['Status']}")
        if not set(env.domain_names) <= covered:
            problems.append(f"certificate {arn} does not cover {sorted(set(env.domain_names) - covered)}")
        not_after = described.get("NotAfter")
        if isinstance(not_after, (int, float)):
            not_after = datetime.datetime.fromtimestamp(not_after, datetime.UTC)
        if not_after is not None and not_after - datetime.datetime.now(datetime.UTC) < datetime.timedelta(days=30):
            problems.append(f"certificate {arn} expires {not_after:%Y-%m-%d}, in under 30 days")
        if env.dns == "external":  # the records live outside this account: ACM's view of them is what can be read
            problems += _external_validation_problems(described, arn)
        else:
            zone = read_stack(aws, env.names.global_stack, "us-east-1")
            zone_id = zone.outputs.get(Output.HOSTED_ZONE_ID) if zone else None
            if zone_id:
                records = aws.call("route53", "ListResourceRecordSets", "us-east-1", HostedZoneId=zone_id, MaxItems="300")["ResourceRecordSets"]
                problems += _dns_problems(records, described, f.distribution_domain, env.domain_names, arn)
    routed = ("validation records seen by ACM; viewer records are at your DNS provider, not checked here"
              if env.dns == "external" else "A/AAAA to the distribution")
    return _result(arn or f"distribution {f.distribution_id}", not problems,
                   "; ".join(problems) or f"{', '.join(env.domain_names)}: certificate ISSUED, TLSv1.2_2021, {routed}")


def _external_validation_problems(certificate: dict, arn: str) -> list[str]:
    """DNS elsewhere: every name validated, and no renewal failing for want of its record."""
    problems = [f"certificate {arn}: {o['DomainName']} validation is {o.get('ValidationStatus')}"
                for o in certificate.get("DomainValidationOptions", []) if o.get("ValidationStatus") != "SUCCESS"]
    renewal = certificate.get("RenewalSummary") or {}
    if renewal.get("RenewalStatus") == "FAILED":
        problems.append(f"certificate {arn}: renewal failed ({renewal.get('RenewalStatusReason', 'no reason given')}); "
                        "the validation records must stay at your DNS provider")
    return problems


def _dns_problems(records: list[dict], certificate: dict, distribution: str, names: tuple[str, ...], arn: str) -> list[str]:
    """The validation records ACM renews with, and alias A and AAAA records to this distribution for every name."""
    found = {(r["Name"].rstrip(".").lower(), r["Type"]): r for r in records}
    problems = []
    for option in certificate.get("DomainValidationOptions", []):
        record = option.get("ResourceRecord") or {}
        present = found.get((record.get("Name", "").rstrip(".").lower(), "CNAME"))
        values = [str(v.get("Value", "")).rstrip(".") for v in (present or {}).get("ResourceRecords", [])]
        if not present or record.get("Value", "").rstrip(".") not in values:
            problems.append(f"certificate {arn}: validation record {record.get('Name')} is missing, so ACM cannot renew it")
    for name in names:
        for kind in ("A", "AAAA"):
            alias = (found.get((name.lower(), kind)) or {}).get("AliasTarget", {}).get("DNSName", "").rstrip(".")
            if alias != distribution:
                problems.append(f"{name} {kind} points to {alias or 'nothing'}, not {distribution}")
    return problems


@live_check("SY-E109", "viewers get HSTS of a year with subdomains")
def viewers_get_hsts(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    import urllib.error
    import urllib.request

    url = edge_url(aws, f.env) + "/"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            header = response.headers.get("Strict-Transport-Security", "")
    except urllib.error.HTTPError as exc:
        header = exc.headers.get("Strict-Transport-Security", "")
    except OSError as exc:
        return _result(url, False, f"could not ask the edge: {exc}")
    age = next((int(part.split("=", 1)[1]) for part in header.split(";") if part.strip().startswith("max-age=")), 0)
    ok = age >= cloudfront_hsts.ONE_YEAR and "includesubdomains" in header.lower()
    return _result(url, ok, f"Strict-Transport-Security: {header}" if header else "no Strict-Transport-Security header")


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
    return _result(acl, bool(managed), f"{len(rules)} rules, managed: {', '.join(managed)}" if managed else "no managed rule groups")


@live_check("SY-E106", "web ACL: managed rules block, rate limit as configured")
def web_acl_rules_act(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    if not f.env.waf:
        return _result(f"distribution {f.distribution_id}", True, "no web ACL (waf = false)")
    acl = _distribution_config(aws, f).get("WebACLId") or ""
    if not acl:
        return _result(f"distribution {f.distribution_id}", False, "no web ACL attached")
    name, acl_id = acl.split("/")[-2:]
    rules = aws.call("wafv2", "GetWebACL", "us-east-1", Name=name, Scope="CLOUDFRONT", Id=acl_id)["WebACL"]["Rules"]
    from shipyard.blueprint.firewall import MANAGED_RULE_GROUPS

    problems = _static(web_acl_rules_block, "AWS::WAFv2::WebACL", {"Rules": rules})
    present = {(r.get("Statement") or {}).get("ManagedRuleGroupStatement", {}).get("Name") for r in rules}
    problems += [f"managed rule group {group} is missing" for group in MANAGED_RULE_GROUPS if group not in present]
    limits = [r["Statement"]["RateBasedStatement"].get("Limit") for r in rules if "RateBasedStatement" in (r.get("Statement") or {})]
    if limits and f.env.waf_rate_limit not in limits:
        problems.append(f"rate limit is {limits[0]}, not waf_rate_limit {f.env.waf_rate_limit}")
    return _result(acl, not problems, "; ".join(problems) or f"managed rules block, rate limit {f.env.waf_rate_limit} per 5 min")


@live_check("SY-E401", "repository: immutable tags, scan on push")
def repository_immutable_and_scanned(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.repository
    repo = aws.call("ecr", "DescribeRepositories", f.region, repositoryNames=[name])["repositories"][0]
    mutable = repo.get("imageTagMutability") != "IMMUTABLE"
    unscanned = not repo.get("imageScanningConfiguration", {}).get("scanOnPush")
    detail = ", ".join(p for p, bad in (("tags are mutable", mutable), ("no scan on push", unscanned)) if bad)
    return _result(repo["repositoryUri"], not (mutable or unscanned),
                  detail or "immutable tags, scan on push")


@live_check("SY-E402", "repository policy grants no one at large")
def repository_policy_not_public(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.repository
    try:
        text = aws.call("ecr", "GetRepositoryPolicy", f.region, repositoryName=name)["policyText"]
    except AwsError as exc:
        if exc.code == "RepositoryPolicyNotFoundException":
            return _result(name, True, "no repository policy")
        raise
    public = ecr_repository_policy.grants_anyone(json.loads(text))
    return _result(name, not public, "allows Principal '*'" if public else "grants named principals only")


@live_check("SY-E502", "service: circuit breaker with rollback")
def service_rolls_back(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    names = f.env.names
    service = f.service(aws)
    if service is None:
        return _result(f"{names.cluster}/{names.service}", False, "service not found")
    breaker = service.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    ok = bool(breaker.get("enable")) and bool(breaker.get("rollback"))
    return _result(service["serviceArn"], ok,
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
            for listed in permission.get("PrefixListIds", []):
                problems.append(f"{group['GroupId']} admits prefix list {listed['PrefixListId']}{_anywhere_in(aws, f, listed['PrefixListId'])}")
    return _result(lb["LoadBalancerArn"], not problems,
                  "; ".join(problems) or "internal; admits only its own subnets (the VPC origin's interfaces)")


def _anywhere_in(aws: Aws, f: _Facts, prefix_list: str) -> str:
    entries = aws.call("ec2", "GetManagedPrefixListEntries", f.region, PrefixListId=prefix_list)["Entries"]
    anywhere = [e["Cidr"] for e in entries if e["Cidr"] in ("0.0.0.0/0", "::/0")]
    return f" (holding {', '.join(anywhere)})" if anywhere else ""


@live_check("SY-E202", "tasks reachable only from the load balancer")
def tasks_only_from_load_balancer(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    service = f.service(aws)
    if service is None:
        return _result(f.env.names.service, False, "service not found")
    lb = aws.call("elbv2", "DescribeLoadBalancers", f.region, Names=[f.env.names.load_balancer])["LoadBalancers"][0]
    allowed = set(lb.get("SecurityGroups", []))
    group_ids = service.get("networkConfiguration", {}).get("awsvpcConfiguration", {}).get("securityGroups", [])
    groups = aws.call("ec2", "DescribeSecurityGroups", f.region, GroupIds=group_ids)["SecurityGroups"] if group_ids else []
    problems = []
    for group in groups:
        for permission in group.get("IpPermissions", []):
            sources = [r["CidrIp"] for r in permission.get("IpRanges", [])] + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
            sources += [f"prefix list {p['PrefixListId']}" for p in permission.get("PrefixListIds", [])]
            sources += [f"security group {p['GroupId']}" for p in permission.get("UserIdGroupPairs", []) if p.get("GroupId") not in allowed]
            problems += [f"{group['GroupId']} admits {source}" for source in sources]
    return _result(", ".join(group_ids) or "no security group", bool(groups) and not problems,
                   "; ".join(problems) or "admit only the load balancer's security group")


def _database(aws: Aws, f: _Facts) -> dict | None:
    """The environment's RDS instance as DescribeDBInstances reports it; None without a [database]."""
    if not any(stack.name == f.env.names.data_stack for stack in f.assembly.stacks):
        return None
    return aws.call("rds", "DescribeDBInstances", f.region, DBInstanceIdentifier=f.env.names.database)["DBInstances"][0]


@live_check("SY-E801", "database private, encrypted, backed up, TLS only, its password rotated")
def database_private(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    instance = _database(aws, f)
    if instance is None:
        return _result("no database", True, "no [database] in shipyard.toml")
    problems = []
    if instance.get("PubliclyAccessible"):
        problems.append("is publicly accessible")
    if not instance.get("StorageEncrypted"):
        problems.append("storage is not encrypted")
    if int(instance.get("BackupRetentionPeriod", 0)) < 1:
        problems.append("keeps no automated backups")
    if f.env.is_production and not instance.get("DeletionProtection"):
        problems.append("has no deletion protection in a production environment")
    for group in instance.get("DBParameterGroups", []):
        parameters = aws.call("rds", "DescribeDBParameters", f.region, DBParameterGroupName=group["DBParameterGroupName"],
                              Source="user")["Parameters"]
        if not any(p.get("ParameterName") == "rds.force_ssl" and str(p.get("ParameterValue")) == "1" for p in parameters):
            problems.append(f"parameter group {group['DBParameterGroupName']} does not require TLS (rds.force_ssl)")
    secret_arn = (instance.get("MasterUserSecret") or {}).get("SecretArn")
    if not secret_arn:
        problems.append("its master password is not managed by RDS in Secrets Manager")
    else:
        secret = aws.call("secretsmanager", "DescribeSecret", f.region, SecretId=secret_arn)
        if not secret.get("RotationEnabled"):
            problems.append(f"secret {secret_arn} does not rotate")
    return _result(instance["DBInstanceArn"], not problems,
                   "; ".join(problems) or f"private, encrypted, {instance['BackupRetentionPeriod']} days of backups, TLS required, "
                                          "password managed and rotated by RDS")


@live_check("SY-E802", "database reachable only from the service's tasks")
def database_only_from_tasks(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    instance = _database(aws, f)
    if instance is None:
        return _result("no database", True, "no [database] in shipyard.toml")
    service = f.service(aws)
    tasks = set(((service or {}).get("networkConfiguration") or {}).get("awsvpcConfiguration", {}).get("securityGroups", []))
    group_ids = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
    groups = aws.call("ec2", "DescribeSecurityGroups", f.region, GroupIds=group_ids)["SecurityGroups"] if group_ids else []
    problems = []
    for group in groups:
        for permission in group.get("IpPermissions", []):
            for source in ([r["CidrIp"] for r in permission.get("IpRanges", [])] + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
                           + [r["PrefixListId"] for r in permission.get("PrefixListIds", [])]):
                problems.append(f"{group['GroupId']} admits {source}")
            for pair in permission.get("UserIdGroupPairs", []):
                if pair.get("GroupId") not in tasks:
                    problems.append(f"{group['GroupId']} admits security group {pair.get('GroupId')}, not the tasks'")
    return _result(", ".join(group_ids) or "no security group", bool(groups) and not problems,
                   "; ".join(problems) or "admit only the service tasks' security group")


@live_check("SY-E301", "deploy role trusts exactly this repository and environment")
def deploy_role_exact_subject(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    name = f.env.names.deploy_role
    role = aws.call("iam", "GetRole", "us-east-1", RoleName=name)["Role"]
    document = role["AssumeRolePolicyDocument"]
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    expected = f.app.subject(f"environment:{f.env.name}")
    provider = f.env.oidc_provider_arn or f"arn:aws:iam::{f.env.account}:oidc-provider/{GITHUB_OIDC_HOST}"
    problems = []
    statements = document.get("Statement", [])
    if len(statements) != 1:
        problems.append(f"{len(statements)} trust statements, not 1")
    for statement in statements:
        principal = (statement.get("Principal") or {}).get("Federated")
        if principal != provider:
            problems.append(f"trusts {json.dumps(statement.get('Principal'))}, not {provider}")
        conditions = statement.get("Condition", {})
        equals = conditions.get("StringEquals", {})
        if set(conditions) - {"StringEquals"}:
            problems.append(f"uses {', '.join(sorted(set(conditions) - {'StringEquals'}))}")
        if equals.get("token.actions.githubusercontent.com:sub") != expected:
            problems.append(f"sub is {equals.get('token.actions.githubusercontent.com:sub')!r}")
        if equals.get("token.actions.githubusercontent.com:aud") != "sts.amazonaws.com":
            problems.append("aud is not sts.amazonaws.com")
    return _result(role["Arn"], not problems,
                  "; ".join(problems) or f"StringEquals sub {expected} ({f.app.subject_format} subject format)")


@live_check("SY-E302", "IAM roles hold exactly what the blueprint grants")
def roles_match_blueprint(aws: Aws, f: _Facts) -> tuple[bool, str, str]:
    names = f.env.names
    problems = []
    for role in (names.deploy_role, names.push_role, names.task_role, names.execution_role, names.traffic_role):
        try:
            drift = role_drift(aws, f.assembly, role)
        except LookupError:  # the push role exists only where CI pushes images (the first environment)
            continue
        problems += [f"{role}: extra {statement}" for statement in drift.extra]
        problems += [f"{role}: missing {statement}" for statement in drift.missing]
        if drift.trust_changed:
            problems.append(f"{role}: trust policy differs from the blueprint's")
    return _result("deploy, image-push, task, execution and traffic-shift roles", not problems,
                   "; ".join(problems) or "live policies equal the synthesized ones")


def verify(aws: Aws, assembly: EnvironmentAssembly, app: AppConfig) -> list[LiveResult]:
    facts = _Facts(aws, assembly, app)
    results = []
    for rule_id, title, function in LIVE_CHECKS:
        try:
            passed, resource, detail = function(aws, facts)
        except AwsError as exc:
            passed, resource, detail = False, exc.where, exc.what
        results.append(LiveResult(rule_id, title, passed, resource, detail))
    return results
