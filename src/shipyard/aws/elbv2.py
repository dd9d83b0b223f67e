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

    def target_health(self, target_group: str) -> list[TargetHealth]:
        answer = self._call("DescribeTargetHealth", TargetGroupArn=target_group)
        return [TargetHealth(t["Target"]["Id"], t["TargetHealth"]["State"], t["TargetHealth"].get("Reason", ""),
                             t["TargetHealth"].get("Description", "")) for t in answer["TargetHealthDescriptions"]]
