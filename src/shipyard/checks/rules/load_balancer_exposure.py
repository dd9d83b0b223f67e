from __future__ import annotations

import ipaddress

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding

_ANYWHERE = {"0.0.0.0/0", "::/0"}


class LoadBalancerExposure(Rule):
    id = "SY-E201"
    severity = Severity.ERROR
    category = Category.NETWORK
    short = "Load balancer reachable from the internet other than through CloudFront"
    long = ("A load balancer must be internal (reached through a CloudFront VPC origin), or, if internet-facing, "
            "admit traffic only from the CloudFront origin-facing prefix list; no security group of a load balancer "
            "may admit 0.0.0.0/0 or ::/0.")
    rationale = "A directly reachable load balancer bypasses WAF, caching and the HTTPS redirect."

    def check(self, view: StackView):
        groups = {logical_id: props for logical_id, props in view.resources("AWS::EC2::SecurityGroup")}
        ingress_by_group: dict[str, list[dict]] = {k: list(v.get("SecurityGroupIngress", []) or []) for k, v in groups.items()}
        for _, rule in view.resources("AWS::EC2::SecurityGroupIngress"):
            ref = rule.get("GroupId")
            target = ref.get("Fn::GetAtt", [None])[0] if isinstance(ref, dict) else None
            if target in ingress_by_group:
                ingress_by_group[target].append(rule)
        for logical_id, props in view.resources("AWS::ElasticLoadBalancingV2::LoadBalancer"):
            if props.get("Type", "application") == "network":
                continue
            internet_facing = props.get("Scheme", "internet-facing") == "internet-facing"
            attached = [g.get("Fn::GetAtt", [None])[0] for g in props.get("SecurityGroups", []) or [] if isinstance(g, dict)]
            open_rules = [r for g in attached for r in ingress_by_group.get(g, [])
                          if r.get("CidrIp") in _ANYWHERE or r.get("CidrIpv6") in _ANYWHERE]
            if open_rules:
                yield Violation(logical_id, "a security group of the load balancer admits the whole internet")
            elif internet_facing and not all(r.get("SourcePrefixListId") for g in attached for r in ingress_by_group.get(g, [])):
                yield Violation(logical_id, "internet-facing without restricting ingress to the CloudFront prefix list")

    verify_title = "load balancer reachable only through CloudFront"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        lb = live.load_balancer
        if lb is None:
            return LiveFinding(False, live.env.names.load_balancer, "load balancer not found")
        ec2 = live.aws.ec2(live.region)
        problems = [] if lb.scheme == "internal" else [f"scheme is {lb.scheme}"]
        own = [ipaddress.ip_network(cidr) for cidr in ec2.subnet_cidrs(list(lb.subnets))]
        for group in ec2.security_groups(list(lb.security_groups)):
            for ingress in group.ingress:
                problems += [f"{group.id} admits {cidr}" for cidr in ingress.cidrs
                             if not any(ipaddress.ip_network(cidr).subnet_of(o) for o in own)]
                problems += [f"{group.id} admits {cidr}" for cidr in ingress.ipv6_cidrs]
                problems += [f"{group.id} admits security group {source}" for source in ingress.security_groups]
                for listed in ingress.prefix_lists:
                    anywhere = [c for c in ec2.prefix_list_cidrs(listed) if c in _ANYWHERE]
                    problems.append(f"{group.id} admits prefix list {listed}" + (f" (holding {', '.join(anywhere)})" if anywhere else ""))
        return LiveFinding(not problems, lb.arn, "; ".join(problems) or "internal; admits only its own subnets (the VPC origin's interfaces)")


RULE = LoadBalancerExposure()
