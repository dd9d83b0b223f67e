"""AWS's pace, modelled: how long CloudFormation, ECS and the load balancer take on AWS for our templates.

The embedded AWS is fast; AWS is not. This module holds one table of AWS
latencies (each with its source, and marked `documented` only where AWS states
the figure) and derives from a synthesized template what it implies: the
critical path of a stack create, and the phases of an ECS rolling deployment
read from the target group's own health-check and deregistration settings and
the deployment alarms' periods. The embedded AWS's deployments run these timers,
compressed by a factor, when SHIPYARD_LOCAL_PACE=aws (SHIPYARD_LOCAL_PACE_FACTOR,
default 30); benchmarks/aws_pace.py prints the modelled wall times.
docs/aws-pace.md lists the table with its sources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Latency:
    seconds: float
    source: str
    documented: bool = False  # True: AWS states this figure; False: an assumption, sourced as far as AWS says anything


LATENCIES: dict[str, Latency] = {
    "change set": Latency(10, "CreateChangeSet to CREATE_COMPLETE plus ExecuteChangeSet; assumed from typical runs"),
    "resource": Latency(5, "a resource without a specific figure below; assumed"),
    "AWS::IAM::Role": Latency(10, "IAM changes are eventually consistent (IAM user guide, 'Changes that I make are not always "
                                  "immediately visible'); assumed"),
    "AWS::EC2::VPC": Latency(5, "assumed"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Latency(
        180, "a new load balancer is 'provisioning' until active (ELB user guide, load balancer state); assumed 3 min"),
    "AWS::CloudFront::Distribution": Latency(
        300, "AWS: CloudFront configuration changes propagate to all edge locations in under 5 minutes "
             "(What's New, 2020-05: 'Amazon CloudFront announces ... reduced deployment time')"),
    "AWS::CloudFront::VpcOrigin": Latency(600, "a VPC origin creates its network interfaces before it is Deployed "
                                               "(CloudFront developer guide, 'Restrict access with VPC origins'); assumed 10 min"),
    "AWS::WAFv2::WebACL": Latency(15, "assumed"),
    "fargate task start": Latency(40, "PROVISIONING -> PENDING (ENI attach, image pull) -> RUNNING (ECS best practices "
                                      "guide, 'Speeding up task launch'); assumed 40 s for a ~100 MB image"),
    "container run": Latency(5, "a container the essential one waits for (dependsOn SUCCESS): it starts once the task's "
                                "images are pulled, all of them at once, runs a few statements and exits; assumed"),
    "target registration": Latency(5, "a registered target waits for its first health check (ELB user guide, "
                                      "'Health checks for your target groups'); assumed one interval"),
    "cloudformation stabilization poll": Latency(15, "CloudFormation polls the service until stable; assumed"),
    "traffic shift": Latency(5, "a listener-rule weight change takes effect within seconds; assumed"),
    "certificate validation": Latency(120, "ACM issues a DNS-validated certificate once its CNAME records resolve, "
                                           "'usually within minutes' (ACM user guide, 'DNS validation'); assumed 2 min"),
    "certificate validation timeout": Latency(12 * 3600, "CloudFormation fails a certificate still pending validation after "
                                                         "about 12 h, before ACM's own 72 h limit (ACM user guide, "
                                                         "'Troubleshoot certificate requests'; cloudformation-coverage-roadmap "
                                                         "issue 130); observed, not documented"),
}


def factor() -> float:
    """How many times faster than AWS the embedded AWS runs under SHIPYARD_LOCAL_PACE=aws."""
    return float(os.environ.get("SHIPYARD_LOCAL_PACE_FACTOR", "30"))


def local(aws_seconds: float) -> float:
    """An AWS timer, as long as it lasts on the embedded AWS."""
    return aws_seconds / factor()


# Real seconds a blue/green bake lasts at least, whatever the compression: the release's health gate judges the new
# revision inside the bake (three answers through the edge, the load balancer and a task), and on two busy cores one
# answer can take half a second. A bake compressed below this would fail releases for the machine's speed alone.
BAKE_AT_LEAST = 4.0


def local_bake(aws_seconds: float) -> float:
    """A deployment's bake time, as long as it lasts on the embedded AWS (local(), never below BAKE_AT_LEAST)."""
    return max(BAKE_AT_LEAST, local(aws_seconds)) if aws_seconds > 0 else 0.0


def aws_pace() -> bool:
    return os.environ.get("SHIPYARD_LOCAL_PACE", "").lower() == "aws"


@dataclass(frozen=True)
class RolloutPhases:
    """Seconds on AWS, from the service update, for one deployment.

    Rolling (min 100 %, max 200 %): new tasks start and turn healthy, old ones drain, then ECS bakes while the
    deployment alarms watch, with the old tasks already gone. Blue/green: green starts and turns healthy beside
    blue, the production rule moves traffic (shift), blue keeps running through the bake, then drains.
    """

    task_start: float
    healthy: float  # registration plus healthy threshold x interval
    drain: float  # deregistration delay of the old targets
    bake: float
    shift: float = 0.0  # blue/green only: the listener rule's weights change

    @property
    def steady(self) -> float:
        """New tasks are healthy (and, blue/green, take production traffic): the health gate can judge them."""
        return self.task_start + self.healthy + self.shift

    @property
    def completed(self) -> float:
        return self.steady + self.drain + self.bake


def _target_group(template: dict[str, Any]) -> dict[str, Any]:
    return next((r.get("Properties", {}) for r in template["Resources"].values()
                 if r["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup"), {})


def rollout_phases(*, interval: float, healthy_threshold: float, drain: float, alarm_windows: list[float],
                   blue_green_bake: float | None = None) -> RolloutPhases:
    """The phases of a rolling deployment from the target group's settings and the deployment alarms' windows.

    ECS derives the bake time from the alarm configuration without stating the formula (ECS developer guide,
    "How CloudWatch alarms detect Amazon ECS deployment failures"); modelled as the longest period x evaluation periods.
    """
    healthy = LATENCIES["target registration"].seconds + interval * healthy_threshold
    if blue_green_bake is not None:  # the service's own bake time, which ECS applies instead of the alarms' window
        return RolloutPhases(LATENCIES["fargate task start"].seconds, healthy, drain, blue_green_bake,
                             LATENCIES["traffic shift"].seconds)
    return RolloutPhases(LATENCIES["fargate task start"].seconds, healthy, drain, max(alarm_windows, default=0.0))


def template_phases(foundation: dict[str, Any], service: dict[str, Any]) -> RolloutPhases:
    """rollout_phases() for synthesized templates: the foundation's target group, the service's alarms."""
    group = _target_group(foundation)
    attributes = {a["Key"]: a["Value"] for a in group.get("TargetGroupAttributes", [])}
    alarms = {logical_id: r["Properties"] for logical_id, r in service["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    deployment = next((r["Properties"] for r in service["Resources"].values() if r["Type"] == "AWS::ECS::Service"), {})
    configuration = deployment.get("DeploymentConfiguration", {})
    watched = configuration.get("Alarms", {}).get("AlarmNames", [])
    blue_green = configuration.get("Strategy") == "BLUE_GREEN"
    return rollout_phases(interval=float(group.get("HealthCheckIntervalSeconds", 30)),
                          healthy_threshold=float(group.get("HealthyThresholdCount", 5)),
                          drain=float(attributes.get("deregistration_delay.timeout_seconds", 300)),
                          alarm_windows=[_alarm_window(alarms.get(name.get("Ref") if isinstance(name, dict) else name, {}))
                                         for name in watched],
                          blue_green_bake=60.0 * float(configuration.get("BakeTimeInMinutes", 0)) if blue_green else None)


def _alarm_window(alarm: dict[str, Any]) -> float:
    periods = float(alarm.get("EvaluationPeriods", 1))
    period = alarm.get("Period")
    if period is None:  # a metric-math alarm keeps its period on the metrics
        period = max((m.get("MetricStat", {}).get("Period", m.get("Period", 60)) for m in alarm.get("Metrics", [])), default=60)
    return float(period) * periods


def references(node: Any) -> set[str]:
    """Logical ids, parameters and conditions a template fragment refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::If" and isinstance(value, list) and value:
                found.add(value[0])
                found |= references(value[1:])
            elif key == "Condition" and isinstance(value, str):
                found.add(value)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def stack_create_seconds(template: dict[str, Any], *, service_seconds: float = 0.0) -> float:
    """Critical path of creating the stack: CloudFormation creates what does not depend on each other in parallel."""
    resources = template.get("Resources", {})
    done: dict[str, float] = {}

    def finish(name: str, seen: frozenset[str] = frozenset()) -> float:
        if name in done:
            return done[name]
        body = resources[name]
        depends = body.get("DependsOn", [])
        after = (references(body.get("Properties", {})) | set([depends] if isinstance(depends, str) else depends)) & set(resources)
        start = max((finish(d, seen | {name}) for d in after - seen - {name}), default=0.0)
        kind = body["Type"]
        own = service_seconds if kind == "AWS::ECS::Service" else LATENCIES.get(kind, LATENCIES["resource"]).seconds
        done[name] = start + own
        return done[name]

    return LATENCIES["change set"].seconds + max((finish(name) for name in resources), default=0.0)
