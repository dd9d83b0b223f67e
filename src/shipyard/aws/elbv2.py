"""Elastic Load Balancing: the environment's load balancer and its targets' health."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    scheme: str  # internal | internet-facing
    state: str  # active | provisioning | failed | ...
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]


@dataclass(frozen=True)
class Listener:
    port: int
    protocol: str  # HTTP | HTTPS
    ssl_policy: str  # "" for HTTP
    certificates: tuple[str, ...]  # ARNs, the default first
    arn: str = ""


@dataclass(frozen=True)
class TargetHealth:
    target: str
    state: str  # initial | healthy | unhealthy | draining | unused | unavailable
    reason: str = ""
    description: str = ""


@dataclass(frozen=True)
class ListenerRule:
    arn: str
    priority: int | None  # None: the listener's default action
    paths: tuple[str, ...]
    headers: dict[str, tuple[str, ...]]  # http-header conditions: lowercase name -> values
    target_groups: tuple[str, ...]  # ARNs it forwards to


class Elbv2(ServiceApi):
    service = "elbv2"

    def load_balancer(self, name: str) -> LoadBalancer | None:
        answer = self._found("DescribeLoadBalancers", Names=[name])
        found = (answer or {}).get("LoadBalancers") or []
        if not found:
            return None
        lb = found[0]
        return LoadBalancer(lb["LoadBalancerArn"], lb["LoadBalancerName"], lb.get("Scheme", ""), (lb.get("State") or {}).get("Code", "active"),
                            tuple(z["SubnetId"] for z in lb.get("AvailabilityZones", [])), tuple(lb.get("SecurityGroups", [])))

    def listeners(self, load_balancer_arn: str) -> list[Listener]:
        answer = self._call("DescribeListeners", LoadBalancerArn=load_balancer_arn)
        return [Listener(int(found["Port"]), found["Protocol"], found.get("SslPolicy", ""),
                         tuple(c["CertificateArn"] for c in found.get("Certificates") or []), found["ListenerArn"])
                for found in answer["Listeners"]]

    def rules(self, listener_arn: str) -> list[ListenerRule]:
        """The listener's rules in the order it evaluates them, the default last."""
        found = []
        for rule in self._call("DescribeRules", ListenerArn=listener_arn)["Rules"]:
            conditions = rule.get("Conditions") or []
            paths = tuple(v for c in conditions if c.get("Field") == "path-pattern"
                          for v in (c.get("PathPatternConfig") or {}).get("Values") or c.get("Values") or [])
            headers = {c["HttpHeaderConfig"]["HttpHeaderName"].lower(): tuple(c["HttpHeaderConfig"].get("Values") or [])
                       for c in conditions if c.get("Field") == "http-header" and c.get("HttpHeaderConfig")}
            groups = tuple(g["TargetGroupArn"] for a in rule.get("Actions") or []
                           for g in ((a.get("ForwardConfig") or {}).get("TargetGroups")
                                     or ([{"TargetGroupArn": a["TargetGroupArn"]}] if a.get("TargetGroupArn") else [])))
            priority = None if rule.get("IsDefault") or rule.get("Priority") == "default" else int(rule["Priority"])
            found.append(ListenerRule(rule["RuleArn"], priority, paths, headers, groups))
        return sorted(found, key=lambda r: (r.priority is None, r.priority or 0))

    def ssl_protocols(self, policy: str) -> frozenset[str]:
        """The TLS versions a security policy offers (DescribeSSLPolicies)."""
        return frozenset(self._call("DescribeSSLPolicies", Names=[policy])["SslPolicies"][0]["SslProtocols"])

    def target_health(self, target_group: str) -> list[TargetHealth]:
        answer = self._call("DescribeTargetHealth", TargetGroupArn=target_group)
        return [TargetHealth(t["Target"]["Id"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason", ""),
                             t["TargetHealth"].get("Description", "")) for t in answer["TargetHealthDescriptions"]]
