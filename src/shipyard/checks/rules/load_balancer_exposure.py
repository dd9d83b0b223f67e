from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation

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


RULE = LoadBalancerExposure()
