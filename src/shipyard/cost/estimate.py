"""Price an environment from its synthesized templates, line by line, under stated traffic assumptions.

Pure functions: templates in, lines out. The reference design (the Terraform
assessment) is priced by the same code from a description of what it ran.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shipyard.config.workloads import rate_seconds
from shipyard.cost.prices import HOURS_PER_MONTH, Prices
from shipyard.errors import ShipyardError, UsageError
from shipyard.naming import PRIMARY_SERVICE
from shipyard.schedule import EXAMPLE as SCHEDULE_EXAMPLE
from shipyard.schedule import parse_schedule, schedule_of


@dataclass(frozen=True)
class Traffic:
    """Monthly traffic assumptions; CLI flags override them."""

    requests_millions: float
    transfer_gb: float
    lcu: float  # average load balancer capacity units in use
    log_gb: float  # log ingestion
    image_gb: float = 0.25  # one image in ECR
    site_gb: float = 0.05
    flow_log_gb: float = 0.5  # rejected-traffic flow logs
    waf_logged_share: float = 0.02  # requests WAF blocks, counts or challenges: the ones its log keeps
    waf_log_record_kb: float = 1.5
    edge_log_record_kb: float = 0.8  # a CloudFront access log record in JSON, with the default fields
    queue_messages_millions: float = 0.1  # messages through the workers' queues

    @staticmethod
    def default(production: bool) -> Traffic:
        return Traffic(10, 50, 1.0, 5) if production else Traffic(0.5, 2, 0.1, 1)


@dataclass(frozen=True)
class Line:
    item: str
    detail: str
    monthly: float
    beyond_reference: bool = False  # the reference design has nothing like it (the database): left out of the comparison


def comparable(lines: list[Line]) -> float:
    """The total of what the reference design also runs."""
    return total([line for line in lines if not line.beyond_reference])


@dataclass
class Footprint:
    """What the templates (or the reference design) run, as the estimator needs it."""

    tasks: int = 0
    vcpu: float = 0
    memory_gb: float = 0
    architecture: str = "x86_64"
    spot_share: float = 0.0
    awake_share: float = 1.0  # the part of the week the service runs (scheduled scaling to zero outside it)
    awake: str = ""  # its awake hours as shipyard.toml writes them, where it has some
    public_ip_per_task: bool = False
    load_balancers: list[str] = field(default_factory=list)  # schemes
    load_balancer_azs: int = 2
    nat_gateways: int = 0
    web_acl_rules: list[int] = field(default_factory=list)  # rules per web ACL
    waf_logging: int = 0
    alarm_metrics: int = 0
    database_alarm_metrics: int = 0  # the database's own alarms: priced with it, outside the reference comparison
    composite_alarms: int = 0
    dashboards: int = 0
    container_insights: int = 0  # clusters with Container Insights (standard)
    edge_log_deliveries: int = 0  # CloudFront standard logging (v2) deliveries
    log_groups: int = 0
    flow_logs: int = 0
    repositories: int = 0
    images_kept: int = 0
    buckets: int = 0
    distributions: int = 0
    hosted_zones: int = 0
    functions: int = 0
    alias_records: int = 0
    databases: list[tuple[str, int, bool]] = field(default_factory=list)  # (instance class, storage GiB, multi-AZ)
    clusters: list[tuple[float, float]] = field(default_factory=list)  # Aurora Serverless v2: (minimum, maximum) ACUs
    cluster_instances: int = 0  # the clusters' instances (a writer, and a reader with database_multi_az), each billed ACUs
    queues: list[str] = field(default_factory=list)  # SQS queue names (workers' queues and their dead-letter queues)
    namespaces: int = 0  # Cloud Map namespaces (Service Connect's)
    secrets: int = 0  # Secrets Manager secrets of its own (a preview's database user)
    discoverable: bool = False  # a backend: its tasks register in Cloud Map as Service Connect endpoints
    jobs: list[Job] = field(default_factory=list)  # scheduled jobs: their runs a month, each a task for at most its timeout
    name: str = ""  # a workload's name; "" for the primary service, whose footprint this is
    containers: list[str] = field(default_factory=list)  # its task's long-running containers (a preview's task has several)
    workloads: list[Footprint] = field(default_factory=list)  # the services beside it: their compute only


# Container Insights (standard) for one Fargate service: 12 cluster metrics, 15 of the service (the resource
# metrics and its task counts), 11 of its task family (CloudWatch user guide, "Amazon ECS Container Insights metrics").
CONTAINER_INSIGHTS_METRICS = 38
CONTAINER_INSIGHTS_EVENT_KB = 2.0  # a task's and its container's performance log events each minute

# Resource types the estimator prices (footprint() reads them).
PRICED_TYPES = frozenset({
    "AWS::ECS::Cluster", "AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::EC2::NatGateway",
    "AWS::WAFv2::WebACL", "AWS::WAFv2::LoggingConfiguration", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm", "AWS::CloudWatch::Dashboard",
    "AWS::Logs::LogGroup", "AWS::EC2::FlowLog", "AWS::ECR::Repository", "AWS::S3::Bucket", "AWS::CloudFront::Distribution",
    "AWS::Route53::HostedZone", "AWS::Route53::RecordSet", "AWS::CloudFront::Function", "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::Logs::Delivery", "AWS::SQS::Queue", "AWS::ServiceDiscovery::HttpNamespace", "AWS::Scheduler::Schedule",
    "AWS::StepFunctions::StateMachine", "AWS::SecretsManager::Secret",
})
# A job's run: Step Functions' state transitions (start, the task, the exit-code choice, the end state) on a standard
# workflow, the first 4,000 of an account's month free, then $0.025 per 1,000 (Step Functions pricing); one
# EventBridge Scheduler invocation, the first 14 M a month free, then $1.00 per million (EventBridge pricing).
TRANSITIONS_PER_RUN = 4
FREE_TRANSITIONS = 4_000
TRANSITION_PRICE = 0.025 / 1000
FREE_INVOCATIONS = 14_000_000
INVOCATION_PRICE = 1.00 / 1e6
# A worker long-polls its queue: one ReceiveMessage per task every 20 s (SQS's longest wait) while the queue is empty,
# which is what an idle month costs; each message adds its send, receive and delete (SQS pricing: a request is one
# 64 KB chunk of up to 10 messages).
LONG_POLLS_PER_TASK_HOUR = 3 * 60
REQUESTS_PER_MESSAGE = 3

# Resource types that cost nothing of their own, and why; what they carry is priced elsewhere.
FREE_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget": "Application Auto Scaling has no charge; the tasks it adds are priced",
    "AWS::CertificateManager::Certificate": "public ACM certificates are free",
    "AWS::CloudFront::ResponseHeadersPolicy": "configuration of the distribution, which is priced",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "Application Auto Scaling has no charge",
    "AWS::Budgets::Budget": "the first two action-free budgets of an account are free",
    "AWS::CloudFront::CachePolicy": "configuration of the distribution, which is priced",
    "AWS::CloudFront::OriginAccessControl": "configuration of the distribution, which is priced",
    "AWS::CloudFront::VpcOrigin": "CloudFront VPC origins have no additional charge",
    "AWS::EC2::InternetGateway": "no hourly charge; data transfer is priced with CloudFront",
    "AWS::EC2::Route": "routing configuration, no charge",
    "AWS::EC2::RouteTable": "routing configuration, no charge",
    "AWS::EC2::SecurityGroup": "no charge",
    "AWS::EC2::SecurityGroupEgress": "no charge",
    "AWS::EC2::SecurityGroupIngress": "no charge",
    "AWS::EC2::Subnet": "no charge",
    "AWS::EC2::SubnetRouteTableAssociation": "no charge",
    "AWS::EC2::VPC": "no charge",
    "AWS::EC2::VPCGatewayAttachment": "no charge",
    "AWS::ECS::ClusterCapacityProviderAssociations": "configuration of the cluster, no charge",
    "AWS::ElasticLoadBalancingV2::Listener": "part of the load balancer, which is priced",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "part of the load balancer, which is priced (rules beyond LCU-free ones are "
                                                 "in the LCU assumption)",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "part of the load balancer, which is priced",
    "AWS::IAM::OIDCProvider": "IAM has no charge",
    "AWS::IAM::ManagedPolicy": "IAM has no charge",
    "AWS::IAM::Policy": "IAM has no charge",
    "AWS::IAM::Role": "IAM has no charge",
    "AWS::S3::BucketPolicy": "configuration of the bucket, which is priced",
    "AWS::SQS::QueuePolicy": "configuration of the queue, which is priced",
    "AWS::SNS::Subscription": "email notifications within the free tier (1,000 a month); deliveries to SQS queues are not charged",
    "AWS::SNS::Topic": "SNS topics have no charge of their own; the first million publishes a month are free (then $0.50 a million)",
    "AWS::SNS::TopicPolicy": "configuration of the topic, no charge",
    "AWS::SSM::Parameter": "standard parameters are free",
    "AWS::Logs::DeliverySource": "configuration of a log delivery, which is priced",
    "AWS::Logs::DeliveryDestination": "configuration of a log delivery, which is priced",
    "AWS::RDS::DBSubnetGroup": "configuration of the database, which is priced",
    "AWS::RDS::DBParameterGroup": "configuration of the database, which is priced",
    "AWS::RDS::DBClusterParameterGroup": "configuration of the database, which is priced",
}


@dataclass
class Job:
    """A scheduled job as the estimate prices it: runs a month, and each run's task for at most its timeout."""

    name: str
    runs: float
    vcpu: float
    memory_gb: float
    architecture: str
    timeout_hours: float


def runs_a_month(expression: str) -> float:
    """How often an EventBridge Scheduler expression fires in 30 days: a rate's exact count; a cron expression's occurrences
    counted by croniter ('?' read as '*'; Scheduler numbers weekdays from 1, croniter from 0, which changes which days,
    not how many)."""
    every = rate_seconds(expression)
    if every is not None:
        return 30 * 86400 / every
    from croniter import croniter  # only for an app with a cron job: kept out of every command's start-up

    fields = expression[len("cron("):-1].split()
    found, runs = croniter(" ".join(field.replace("?", "*") for field in fields[:5]), datetime(2026, 1, 1, tzinfo=UTC)), 0
    end = datetime(2026, 1, 31, tzinfo=UTC)
    while found.get_next(datetime) < end and runs < 50_000:
        runs += 1
    return float(runs)


class UnpricedResource(ShipyardError):
    """A template holds a resource type the estimator neither prices nor knows to be free."""


def unpriced_types(templates: list[dict[str, Any]]) -> list[str]:
    kinds = {r.get("Type") for t in templates for r in t.get("Resources", {}).values()}
    return sorted(k for k in kinds if k not in PRICED_TYPES and k not in FREE_TYPES)


def _released(value: Any) -> Any:
    """A count as it stands after the first release: the 'then' branch of Fn::If [HasImage, …, 0]; None for AWS::NoValue."""
    if isinstance(value, dict) and "Fn::If" in value:
        value = value["Fn::If"][1]
    return None if value is None or value == {"Ref": "AWS::NoValue"} else value


def footprint(templates: list[dict[str, Any]]) -> Footprint:
    """What the templates run; every resource type is priced or declared free, never ignored."""
    missing = unpriced_types(templates)
    if missing:
        raise UnpricedResource("shipyard cost", f"no price for {', '.join(missing)}",
                               "add it to cost/estimate.py: price it, or list it in FREE_TYPES with the reason")
    f = Footprint()
    scaled: list[tuple[str, dict[str, Any]]] = []  # (ECS service logical id, scalable target properties)
    computes = {}  # ECS service logical id -> its footprint (the primary's is f)
    counts: dict[str, int | None] = {}  # ECS service logical id -> running tasks (its desired count or target's minimum)
    for template in templates:
        resources = template.get("Resources", {})
        for logical_id, resource in resources.items():
            kind, props = resource.get("Type"), resource.get("Properties", {}) or {}
            if kind == "AWS::ECS::Cluster":
                settings = {s.get("Name"): s.get("Value") for s in props.get("ClusterSettings", []) or []}
                f.container_insights += settings.get("containerInsights") in ("enabled", "enhanced")
            elif kind == "AWS::ECS::Service":
                name = props.get("ServiceName", "")
                compute = f if name in ("", PRIMARY_SERVICE) else Footprint(name=name)
                computes[logical_id] = compute
                counts[logical_id] = _released(props.get("DesiredCount", 1))
                task = resources.get((props.get("TaskDefinition") or {}).get("Ref", ""), {}).get("Properties", {})
                compute.vcpu = int(task.get("Cpu", 256)) / 1024
                compute.memory_gb = int(task.get("Memory", 512)) / 1024
                compute.architecture = (task.get("RuntimePlatform") or {}).get("CpuArchitecture", "X86_64").lower()
                compute.containers = [str(c.get("Name", "")) for c in task.get("ContainerDefinitions", []) or []
                                      if c.get("Essential", True) is not False]
                strategy = props.get("CapacityProviderStrategy") or []
                total = sum(int(s.get("Weight", 1)) for s in strategy) or 1
                compute.spot_share = sum(int(s.get("Weight", 1)) for s in strategy if s.get("CapacityProvider") == "FARGATE_SPOT") / total
                compute.discoverable = bool((props.get("ServiceConnectConfiguration") or {}).get("Services"))
                network = ((props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {})
                compute.public_ip_per_task = network.get("AssignPublicIp") == "ENABLED"
            elif kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
                f.load_balancers.append(props.get("Scheme", "internet-facing"))
                f.load_balancer_azs = max(2, len(props.get("Subnets", []) or []))
            elif kind == "AWS::EC2::NatGateway":
                f.nat_gateways += 1
            elif kind == "AWS::WAFv2::WebACL":
                f.web_acl_rules.append(len(props.get("Rules", []) or []))
            elif kind == "AWS::WAFv2::LoggingConfiguration":
                f.waf_logging += 1
            elif kind == "AWS::ApplicationAutoScaling::ScalableTarget":
                scaled.append((_scaled_service(props.get("ResourceId")), props))
            elif kind == "AWS::CloudWatch::Alarm":
                metrics = [m for m in props.get("Metrics", []) or [] if "MetricStat" in m]
                if props.get("Namespace") == "AWS/RDS":
                    f.database_alarm_metrics += 1
                else:
                    f.alarm_metrics += len(metrics) or 1
            elif kind == "AWS::Logs::Delivery":
                f.edge_log_deliveries += 1
            elif kind == "AWS::CloudWatch::CompositeAlarm":
                f.composite_alarms += 1
            elif kind == "AWS::CloudWatch::Dashboard":
                f.dashboards += 1
            elif kind == "AWS::Logs::LogGroup":
                f.log_groups += 1
            elif kind == "AWS::EC2::FlowLog":
                f.flow_logs += 1
            elif kind == "AWS::ECR::Repository":
                f.repositories += 1
                policy = (props.get("LifecyclePolicy") or {}).get("LifecyclePolicyText", "")
                rules = json.loads(policy).get("rules", []) if policy else []
                f.images_kept += max((r["selection"].get("countNumber", 0) for r in rules
                                      if r["selection"].get("countType") == "imageCountMoreThan"), default=10)
            elif kind == "AWS::S3::Bucket":
                f.buckets += 1
            elif kind == "AWS::CloudFront::Distribution":
                f.distributions += 1
            elif kind == "AWS::CloudFront::Function":
                f.functions += 1
            elif kind == "AWS::Route53::HostedZone":
                f.hosted_zones += 1
            elif kind == "AWS::Route53::RecordSet":
                f.alias_records += 1 if "AliasTarget" in props else 0
            elif kind == "AWS::ServiceDiscovery::HttpNamespace":
                f.namespaces += 1
            elif kind == "AWS::SecretsManager::Secret":
                f.secrets += 1
            elif kind == "AWS::Scheduler::Schedule":
                # The schedule's job: the task family of its name, and the timeout its state machine gives a run.
                task = next((r.get("Properties", {}) for r in resources.values() if r.get("Type") == "AWS::ECS::TaskDefinition"
                             and (r.get("Properties") or {}).get("Family") == props.get("Name")), {})
                machine = json.dumps([r.get("Properties", {}).get("DefinitionString") for r in resources.values()
                                      if r.get("Type") == "AWS::StepFunctions::StateMachine"
                                      and (r.get("Properties") or {}).get("StateMachineName") == props.get("Name")])
                timeout = re.search(r'TimeoutSeconds\\*":(\d+)', machine)
                f.jobs.append(Job(str(props.get("Name", logical_id)), runs_a_month(str(props["ScheduleExpression"])),
                                  int(task.get("Cpu", 256)) / 1024, int(task.get("Memory", 512)) / 1024,
                                  (task.get("RuntimePlatform") or {}).get("CpuArchitecture", "X86_64").lower(),
                                  int(timeout[1]) / 3600 if timeout else 1.0))
            elif kind == "AWS::SQS::Queue":
                f.queues.append(str(props.get("QueueName", logical_id)))
            elif kind == "AWS::RDS::DBCluster":
                scaling = props.get("ServerlessV2ScalingConfiguration") or {}
                f.clusters.append((float(scaling.get("MinCapacity", 0.5)), float(scaling.get("MaxCapacity", 1))))
            elif kind == "AWS::RDS::DBInstance" and props.get("DBClusterIdentifier"):
                f.cluster_instances += 1
            elif kind == "AWS::RDS::DBInstance":
                f.databases.append((props["DBInstanceClass"], int(props.get("AllocatedStorage", 20)),
                                    str(props.get("MultiAZ", False)).lower() == "true"))
    for service, props in scaled:
        compute = computes.get(service, f)
        # A released service with a scalable target names no desired count: it runs the target's minimum (and more
        # under load, which the estimate does not price).
        if counts.get(service) is None:
            counts[service] = _released(props.get("MinCapacity"))
        actions = {("sleep" if (a.get("ScalableTargetAction") or {}).get("MaxCapacity") == 0 else "wake"): a
                   for a in props.get("ScheduledActions", []) or []}
        if actions:
            awake = schedule_of(actions["wake"]["Schedule"], actions["sleep"]["Schedule"], actions["wake"].get("Timezone") or "UTC")
            compute.awake_share, compute.awake = awake.awake_share, awake.text
    for service, compute in computes.items():
        compute.tasks = int(counts[service] or 0)
    f.workloads = [compute for compute in computes.values() if compute is not f]
    return f


def _compute_lines(f: Footprint, prices: Prices) -> list[Line]:
    """One service's Fargate tasks and their public addresses; a workload's lines carry its name."""
    lines = []
    hours = HOURS_PER_MONTH * f.awake_share
    awake = "" if f.awake_share == 1 else f" (awake {f.awake_share:.0%} of the week)"
    whose = f": {f.name}" if f.name else ""
    if f.tasks:
        on_demand = 1 - f.spot_share
        for share, kind in ((on_demand, f.architecture), (f.spot_share, f"spot-{f.architecture}")):
            if share <= 0:
                continue
            vcpu = f.tasks * share * f.vcpu * hours * prices.fargate_vcpu_hour[kind]
            memory = f.tasks * share * f.memory_gb * hours * prices.fargate_gb_hour[kind]
            label = f"Fargate Spot ({f.architecture})" if kind.startswith("spot") else f"Fargate on-demand ({kind})"
            lines.append(Line(label + whose, f"{f.tasks * share:g} tasks x {f.vcpu:g} vCPU / {f.memory_gb:g} GB x {hours:.0f} h{awake}",
                              vcpu + memory))
    if f.public_ip_per_task and f.tasks:
        # A task's public address is released when the task stops, so a sleeping service pays for none.
        lines.append(Line("Public IPv4 (tasks)" + whose, f"{f.tasks} addresses x {hours:.0f} h{awake}",
                          f.tasks * hours * prices.public_ipv4_hour))
    return lines


def price(f: Footprint, prices: Prices, traffic: Traffic) -> list[Line]:
    h = HOURS_PER_MONTH
    hours = h * f.awake_share
    lines = [*_compute_lines(f, prices), *(line for workload in f.workloads for line in _compute_lines(workload, prices))]
    if f.secrets:
        lines.append(Line("Secrets Manager", f"{f.secrets} secrets of its own", f.secrets * prices.secret_month))
    for scheme in f.load_balancers:
        lines.append(Line(f"Load balancer ({scheme})", f"{h} h + {traffic.lcu:g} LCU average",
                          h * (prices.alb_hour + traffic.lcu * prices.lcu_hour)))
        if scheme == "internet-facing":
            lines.append(Line("Public IPv4 (load balancer nodes)", f"{f.load_balancer_azs} addresses x {h} h",
                              f.load_balancer_azs * h * prices.public_ipv4_hour))
    if f.nat_gateways:
        lines.append(Line("NAT gateways", f"{f.nat_gateways} x {h} h + {traffic.transfer_gb:g} GB processed",
                          f.nat_gateways * h * prices.nat_hour + traffic.transfer_gb * prices.nat_gb))
    for rules in f.web_acl_rules:
        lines.append(Line("WAF web ACL", f"1 ACL + {rules} rules + {traffic.requests_millions:g} M requests",
                          prices.waf_web_acl_month + rules * prices.waf_rule_month + traffic.requests_millions * prices.waf_million_requests))
    if f.waf_logging:
        gb = traffic.requests_millions * 1e6 * traffic.waf_logged_share * traffic.waf_log_record_kb / 1e6
        lines.append(Line("WAF logs (blocked, counted, challenged)", f"{traffic.waf_logged_share:.0%} of requests, {gb:.2g} GB",
                          gb * (prices.log_ingest_gb + prices.log_store_gb_month)))
    if f.alarm_metrics or f.composite_alarms:
        billed = max(0, f.alarm_metrics - prices.alarm_free_metrics)
        lines.append(Line("CloudWatch alarms", f"{f.alarm_metrics} alarm metrics ({prices.alarm_free_metrics} free) + "
                          f"{f.composite_alarms} composite", billed * prices.alarm_metric_month + f.composite_alarms * prices.composite_alarm_month))
    if f.database_alarm_metrics:
        # The free tier is the account's; the service's alarms use it first.
        free_left = max(0, prices.alarm_free_metrics - f.alarm_metrics)
        lines.append(Line("CloudWatch alarms (database)", f"{f.database_alarm_metrics} alarm metrics",
                          max(0, f.database_alarm_metrics - free_left) * prices.alarm_metric_month, beyond_reference=True))
    if f.dashboards:
        lines.append(Line("CloudWatch dashboards", f"{f.dashboards} ({prices.dashboard_free} per account free)",
                          max(0, f.dashboards - prices.dashboard_free) * prices.dashboard_month))
    if f.container_insights:
        # Standard Container Insights on Fargate: custom metrics per cluster, per service and per task family
        # (CloudWatch user guide, "Amazon ECS Container Insights metrics"), and a performance log event per task
        # and container each minute.
        metrics = f.container_insights * CONTAINER_INSIGHTS_METRICS
        task_hours = f.tasks * hours + sum(w.tasks * h * w.awake_share for w in f.workloads)
        log_gb = task_hours * 60 * CONTAINER_INSIGHTS_EVENT_KB / 1e6
        lines.append(Line("Container Insights (standard)", f"{metrics} custom metrics + {log_gb:.2g} GB performance logs",
                          metrics * prices.custom_metric_month + log_gb * prices.log_ingest_gb, beyond_reference=True))
    if f.edge_log_deliveries:
        gb = traffic.requests_millions * 1e6 * traffic.edge_log_record_kb / 1e6
        lines.append(Line("CloudFront access logs (standard logging v2)", f"{traffic.requests_millions:g} M requests, "
                          f"{gb:.2g} GB delivered to CloudWatch Logs", gb * (prices.edge_log_gb + prices.log_store_gb_month),
                          beyond_reference=True))
    if f.log_groups:
        lines.append(Line("CloudWatch Logs", f"{traffic.log_gb:g} GB ingested and stored",
                          traffic.log_gb * (prices.log_ingest_gb + prices.log_store_gb_month)))
    if f.flow_logs:
        lines.append(Line("VPC flow logs (rejected, to S3)", f"{traffic.flow_log_gb:g} GB delivered", traffic.flow_log_gb * prices.vended_log_gb))
    if f.repositories:
        stored = f.images_kept * traffic.image_gb
        lines.append(Line("ECR storage", f"{f.images_kept} images x {traffic.image_gb:g} GB", stored * prices.ecr_gb_month))
    if f.buckets:
        stored = traffic.site_gb + traffic.log_gb
        lines.append(Line("S3 storage", f"{f.buckets} buckets, {stored:g} GB", stored * prices.s3_gb_month))
    if f.distributions:
        extra_gb = max(0.0, traffic.transfer_gb - prices.cloudfront_free_gb)
        extra_requests = max(0.0, traffic.requests_millions * 1e6 - prices.cloudfront_free_requests)
        lines.append(Line("CloudFront", f"{traffic.transfer_gb:g} GB, {traffic.requests_millions:g} M requests "
                          "(1 TB and 10 M requests a month are free)",
                          extra_gb * prices.cloudfront_gb + extra_requests / 1e4 * prices.cloudfront_10k_requests))
    if f.functions:
        # A viewer-request function runs on the default behaviour's requests; all requests, to stay on the safe side.
        billed = max(0.0, traffic.requests_millions - prices.function_free_millions)
        lines.append(Line("CloudFront Functions", f"{traffic.requests_millions:g} M invocations ({prices.function_free_millions:g} M a month free)",
                          billed * prices.function_million))
    if f.hosted_zones or f.alias_records:
        # Queries of alias records to a CloudFront distribution are free (Route 53 pricing, "Queries").
        lines.append(Line("Route 53", f"{f.hosted_zones} hosted zone(s) created; {f.alias_records} alias records to CloudFront "
                          "(their queries are free)", f.hosted_zones * prices.hosted_zone_month))
    # Who long-polls a queue: the service of the worker's name, or a task with a container of that name (a preview's).
    pollers = {id(w): (w, sum(any(q.endswith(f"-{name}") for q in f.queues) for name in {w.name, *w.containers} if name))
               for w in [f, *f.workloads]}
    workers = [(w, consumers) for w, consumers in pollers.values() if consumers]
    if workers:
        polls = sum(consumers * w.tasks * h * w.awake_share for w, consumers in workers) * LONG_POLLS_PER_TASK_HOUR
        messages = traffic.queue_messages_millions * 1e6
        requests = polls + messages * REQUESTS_PER_MESSAGE
        lines.append(Line("SQS", f"{len(f.queues)} queues; {polls / 1e6:.2g} M long polls + {traffic.queue_messages_millions:g} M "
                          f"messages x {REQUESTS_PER_MESSAGE} requests ({prices.sqs_free_millions:g} M requests a month free)",
                          max(0.0, requests / 1e6 - prices.sqs_free_millions) * prices.sqs_million_requests, beyond_reference=True))
    if f.namespaces:
        # Service Connect itself has no charge; each backend task registers in Cloud Map as an instance (Cloud Map
        # pricing: per registered instance a month; its API calls from ECS are within the free tier).
        instances = sum(w.tasks for w in f.workloads if w.discoverable)
        lines.append(Line("Cloud Map (Service Connect)", f"{f.namespaces} namespace, {instances} registered backend tasks",
                          instances * prices.cloud_map_instance_month, beyond_reference=True))
    if f.jobs:
        runs = sum(job.runs for job in f.jobs)
        lines.append(Line("Fargate (scheduled jobs)", "; ".join(
            f"{job.name}: {job.runs:g} runs x at most {job.timeout_hours * 60:g} min, {job.vcpu:g} vCPU / {job.memory_gb:g} GB"
            for job in f.jobs) + " (each run priced at its timeout: an upper bound)",
            sum(job.runs * job.timeout_hours * (job.vcpu * prices.fargate_vcpu_hour[job.architecture]
                                                + job.memory_gb * prices.fargate_gb_hour[job.architecture]) for job in f.jobs),
            beyond_reference=True))
        lines.append(Line("Step Functions and EventBridge Scheduler", f"{runs:g} runs x {TRANSITIONS_PER_RUN} state transitions "
                          f"({FREE_TRANSITIONS:,} a month free) and {runs:g} schedule invocations ({FREE_INVOCATIONS / 1e6:g} M free)",
                          max(0.0, runs * TRANSITIONS_PER_RUN - FREE_TRANSITIONS) * TRANSITION_PRICE
                          + max(0.0, runs - FREE_INVOCATIONS) * INVOCATION_PRICE, beyond_reference=True))
    for instance_class, storage_gb, multi_az in f.databases:
        copies = 2 if multi_az else 1  # a Multi-AZ standby is billed like the primary, instance and storage
        if instance_class not in prices.rds_instance_hour:
            raise UsageError("shipyard cost", f"no {prices.region} price for RDS instance class {instance_class}",
                             f"use one of {', '.join(prices.rds_instance_hour)}")
        lines.append(Line("RDS for PostgreSQL", f"{instance_class}{' Multi-AZ' if multi_az else ''} x {h} h",
                          copies * h * prices.rds_instance_hour[instance_class], beyond_reference=True))
        lines.append(Line("RDS storage (gp3)", f"{storage_gb} GiB{' x 2 (Multi-AZ)' if multi_az else ''}; backups up to the "
                          "same size are free", copies * storage_gb * prices.rds_gp3_gb_month, beyond_reference=True))
        lines.append(Line("Secrets Manager", "the database's master secret, managed and rotated by RDS", prices.secret_month,
                          beyond_reference=True))
    for low, high in f.clusters:
        instances = max(f.cluster_instances, 1)
        paused = " (0 while paused after 5 idle minutes; at least 0.5 ACU an hour when awake)" if low == 0 else ""
        lines.append(Line("Aurora Serverless v2", f"{instances} instance{'s' if instances > 1 else ''} x {low:g} ACU minimum "
                          f"x {h} h{paused}; up to {high:g} ACUs under load at ${prices.aurora_acu_hour}/ACU-hour",
                          instances * low * h * prices.aurora_acu_hour, beyond_reference=True))
        lines.append(Line("Aurora storage and I/O", f"billed as used: ${prices.aurora_storage_gb_month}/GiB-month and "
                          f"${prices.aurora_io_million}/million I/O requests (not estimated: no data yet); backups up to "
                          "the data's size are free", 0.0, beyond_reference=True))
        lines.append(Line("Secrets Manager", "the database's master secret, managed and rotated by RDS", prices.secret_month,
                          beyond_reference=True))
    return [Line(line.item, line.detail, round(line.monthly, 2), line.beyond_reference) for line in lines]


def total(lines: list[Line]) -> float:
    return round(sum(line.monthly for line in lines), 2)


def reference_footprint(production: bool) -> Footprint:
    """The reference design: x86 tasks with public IPs behind an internet-facing ALB; WAF in production only."""
    return Footprint(
        tasks=4 if production else 2, vcpu=0.5 if production else 0.25, memory_gb=1 if production else 0.5,
        architecture="x86_64", public_ip_per_task=True, load_balancers=["internet-facing"],
        web_acl_rules=[4] if production else [], log_groups=1, repositories=1, images_kept=20, buckets=1, distributions=1,
    )


@dataclass(frozen=True)
class Saving:
    option: str
    monthly: float
    applied: bool
    why_not: str = ""  # for an option the blueprint cannot take yet: what stands in the way


def savings(f: Footprint, prices: Prices, traffic: Traffic, production: bool) -> list[Saving]:
    """What each cost option is worth for this environment, and whether the templates already take it."""
    h = HOURS_PER_MONTH
    compute = f.tasks * h

    def fargate(kind: str) -> float:
        return compute * _task_hour(f, prices, kind)

    options = [
        Saving("ARM64 (Graviton) tasks instead of x86_64", round(fargate("x86_64") - fargate("arm64"), 2),
               f.architecture == "arm64"),
        Saving("no NAT gateway (tasks egress through the internet gateway; one NAT per AZ otherwise)",
               round(f.load_balancer_azs * h * prices.nat_hour + traffic.transfer_gb * prices.nat_gb, 2), f.nat_gateways == 0),
        Saving("no public IPv4 on the load balancer (internal, through a CloudFront VPC origin)",
               round(f.load_balancer_azs * h * prices.public_ipv4_hour, 2), "internet-facing" not in f.load_balancers),
        Saving("no public IPv4 on the tasks (IPv6-only task subnets, egress-only internet gateway)",
               round(f.tasks * h * f.awake_share * prices.public_ipv4_hour, 2), not f.public_ip_per_task,
               why_not="not yet: Fargate fetches registry auth over IPv4 (docs/decisions.md §21)"),
    ]
    if not production:
        options.insert(1, Saving(f"Fargate Spot ({f.architecture}) instead of on-demand",
                                 round(fargate(f.architecture) - fargate(f"spot-{f.architecture}"), 2), f.spot_share > 0))
        # What sleeping outside working hours saves: measured where a schedule is set, for a typical one otherwise.
        share = f.awake_share if f.awake_share < 1 else parse_schedule(SCHEDULE_EXAMPLE).awake_share
        running = fargate(f"spot-{f.architecture}" if f.spot_share else f.architecture) + (
            compute * prices.public_ipv4_hour if f.public_ip_per_task else 0)
        label = f"awake = \"{f.awake}\"" if f.awake else f"for example awake = \"{SCHEDULE_EXAMPLE}\""
        options.insert(2, Saving(f"sleep outside working hours ({label})",
                                 round(running * (1 - share), 2), f.awake_share < 1))
    return options


@dataclass(frozen=True)
class EnvironmentCost:
    environment: str
    region: str
    lines: list[Line]
    total: float
    reference_total: float | None
    savings: list[Saving]
    comparable_total: float = 0.0  # without what the reference design lacks (the database)
    prices: str = ""  # where the prices come from, and their date
    per_wake: float | None = None  # with awake hours: what one release outside them costs (the tasks it wakes)
    wake_hours: float = 0.0

    @property
    def share_of_reference(self) -> float | None:
        """This environment's comparable total over the reference design's, on the same prices."""
        return round(self.comparable_total / self.reference_total, 4) if self.reference_total else None


def estimate_environment(name: str, region: str, production: bool, templates: list[dict[str, Any]], prices: Prices,
                         traffic: Traffic, compare_reference: bool, *, wake_hours: float = 0.0) -> EnvironmentCost:
    """wake_hours: how long a release outside the awake hours keeps the environment up (with awake hours)."""
    f = footprint(templates)
    lines = price(f, prices, traffic)
    reference = total(price(reference_footprint(production), prices, traffic)) if compare_reference else None
    return EnvironmentCost(name, region, lines, total(lines), reference, savings(f, prices, traffic, production), comparable(lines),
                           f"{prices.source}, {prices.date}", _per_wake(f, prices, wake_hours) if f.awake_share < 1 else None,
                           wake_hours)


def _scaled_service(resource_id: Any) -> str:
    """The ECS service a scalable target scales: the logical id its ResourceId (service/<cluster>/<name>) refers to."""
    found = re.search(r'"Fn::GetAtt": \["([^"]+)", "Name"\]', json.dumps(resource_id))
    return found[1] if found else ""


def _task_hour(f: Footprint, prices: Prices, kind: str) -> float:
    """One task's vCPU and memory for an hour on Fargate of this kind (x86_64, arm64, spot-...)."""
    return f.vcpu * prices.fargate_vcpu_hour[kind] + f.memory_gb * prices.fargate_gb_hour[kind]


def _per_wake(f: Footprint, prices: Prices, wake_hours: float) -> float:
    """The tasks one wake keeps up for wake_hours, at the prices they run at (Spot or on-demand, public IPv4)."""
    kind = f"spot-{f.architecture}" if f.spot_share else f.architecture
    hourly = f.tasks * (_task_hour(f, prices, kind) + (prices.public_ipv4_hour if f.public_ip_per_task else 0))
    return round(hourly * wake_hours, 3)
