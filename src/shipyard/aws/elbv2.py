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


@dataclass(frozen=True)
class TargetHealth:
    target: str
    state: str  # initial | healthy | unhealthy | draining | unused | unavailable
    reason: str = ""
    description: str = ""


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
                         tuple(c["CertificateArn"] for c in found.get("Certificates") or []))
                for found in answer["Listeners"]]

    def ssl_protocols(self, policy: str) -> frozenset[str]:
        """The TLS versions a security policy offers (DescribeSSLPolicies)."""
        return frozenset(self._call("DescribeSSLPolicies", Names=[policy])["SslPolicies"][0]["SslProtocols"])

    def target_health(self, target_group: str) -> list[TargetHealth]:
        answer = self._call("DescribeTargetHealth", TargetGroupArn=target_group)
        return [TargetHealth(t["Target"]["Id"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason", ""),
                             t["TargetHealth"].get("Description", "")) for t in answer["TargetHealthDescriptions"]]
