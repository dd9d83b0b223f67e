"""ECS: the service and its deployments, tasks (running, stopped, one-off) and task definitions, and ECS Exec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Deployment:
    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str  # IN_PROGRESS | COMPLETED | FAILED
    rollout_reason: str
    task_definition: str
    running: int
    desired: int
    pending: int
    failed: int


@dataclass(frozen=True)
class Network:
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    public_ip: bool


@dataclass(frozen=True)
class CapacityShare:
    provider: str
    weight: int
    base: int


@dataclass(frozen=True)
class Service:
    arn: str
    name: str
    task_definition: str
    desired: int
    running: int
    pending: int
    deployments: tuple[Deployment, ...]
    # The target groups its tasks register in: the load balancer's, and with blue/green the alternate one.
    target_groups: tuple[str, ...]
    network: Network
    capacity: tuple[CapacityShare, ...]  # empty: the launch type
    launch_type: str
    circuit_breaker: bool  # enabled with rollback
    circuit_breaker_setting: dict[str, Any]  # as ECS reports it, for the one who reads a failure
    deployment_alarms: tuple[str, ...]
    bake_minutes: float
    events: tuple[str, ...]  # newest first
    exec_enabled: bool = False  # ECS Exec (enableExecuteCommand)

    def deployment_of(self, task_definition: str) -> Deployment | None:
        return next((d for d in self.deployments if d.task_definition == task_definition), None)

    @property
    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


@dataclass(frozen=True)
class ServiceDeployment:
    arn: str
    lifecycle_stage: str  # RECONCILE_SERVICE | PRE_SCALE_UP | SCALE_UP | ... | BAKE_TIME | CLEAN_UP


@dataclass(frozen=True)
class Container:
    name: str
    exit_code: int | None
    runtime_id: str = ""
    reason: str = ""  # why ECS stopped it, where it says (a dependency that failed)


@dataclass(frozen=True)
class Task:
    arn: str
    task_definition: str
    last_status: str
    stopped_reason: str = ""
    started_at: str = ""  # sortable text of the time, "" while not started
    stopped_at: str = ""
    exec_enabled: bool = False
    containers: tuple[Container, ...] = ()

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def container(self, name: str) -> Container | None:
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True)
class ContainerDefinition:
    name: str
    secrets: tuple[tuple[str, str], ...]  # (variable, valueFrom)
    log_group: str
    log_stream_prefix: str


@dataclass(frozen=True)
class TaskDefinition:
    arn: str
    containers: tuple[ContainerDefinition, ...]

    def container(self, name: str) -> ContainerDefinition | None:
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True)
class Started:
    """RunTask's answer: the task, or why ECS did not start one."""

    task_arn: str | None
    failure: str = ""


@dataclass(frozen=True)
class CommandSession:
    """ExecuteCommand's answer: the session document the Session Manager plugin joins."""

    session: dict[str, Any] = field(default_factory=dict)

    def plugin_arguments(self, *, region: str, profile: str | None, target: str) -> list[str]:
        """What the AWS CLI hands the Session Manager plugin for this session (the plugin's own protocol)."""
        return [json.dumps(self.session), region, "StartSession", profile or "", json.dumps({"Target": target}),
                f"https://ssm.{region}.amazonaws.com"]


class Ecs(ServiceApi):
    service = "ecs"

    def service_of(self, cluster: str, name: str) -> Service | None:
        """The service as DescribeServices reports it, or None when it (or its cluster) does not exist."""
        answer = self._found("DescribeServices", cluster=cluster, services=[name])
        services = (answer or {}).get("services") or []
        return _service(services[0]) if services else None

    def newest_deployment_in_progress(self, cluster: str, service: str) -> ServiceDeployment | None:
        listed = self._call("ListServiceDeployments", cluster=cluster, service=service, status=["IN_PROGRESS"])["serviceDeployments"]
        if not listed:
            return None
        newest = max(listed, key=lambda d: str(d.get("createdAt") or ""))["serviceDeploymentArn"]
        described = self._call("DescribeServiceDeployments", serviceDeploymentArns=[newest])["serviceDeployments"]
        return ServiceDeployment(newest, described[0].get("lifecycleStage", "")) if described else None

    def roll_back_deployment(self, arn: str) -> None:
        """StopServiceDeployment with ROLLBACK: traffic back to the previous revision, the deployment fails."""
        self._call("StopServiceDeployment", serviceDeploymentArn=arn, stopType="ROLLBACK")

    def task_arns(self, cluster: str, service: str, desired_status: str) -> list[str]:
        """The service's tasks that ECS wants RUNNING or STOPPED (at most the first 100; none for a missing cluster)."""
        answer = self._found("ListTasks", cluster=cluster, serviceName=service, desiredStatus=desired_status)
        return list((answer or {}).get("taskArns", []))

    def tasks(self, cluster: str, arns: list[str]) -> list[Task]:
        if not arns:
            return []
        return [_task(t) for t in self._call("DescribeTasks", cluster=cluster, tasks=arns[:100])["tasks"]]

    def task_definition(self, arn: str) -> TaskDefinition:
        definition = self._call("DescribeTaskDefinition", taskDefinition=arn)["taskDefinition"]
        containers = []
        for container in definition.get("containerDefinitions", []):
            options = (container.get("logConfiguration") or {}).get("options") or {}
            containers.append(ContainerDefinition(
                container["name"], tuple((s["name"], str(s["valueFrom"])) for s in container.get("secrets", [])),
                options.get("awslogs-group", ""), options.get("awslogs-stream-prefix", "ecs")))
        return TaskDefinition(definition.get("taskDefinitionArn", arn), tuple(containers))

    def run_task(self, *, cluster: str, task_definition: str, like: Service, container: str, command: list[str],
                 environment: dict[str, str], started_by: str) -> Started:
        """One task of `task_definition` with `container`'s command replaced, in the network and capacity of `like`."""
        network = like.network
        request: dict[str, Any] = {
            "cluster": cluster, "taskDefinition": task_definition, "count": 1, "startedBy": started_by,
            "networkConfiguration": {"awsvpcConfiguration": {"subnets": list(network.subnets), "securityGroups": list(network.security_groups),
                                                             "assignPublicIp": "ENABLED" if network.public_ip else "DISABLED"}},
            "overrides": {"containerOverrides": [{"name": container, "command": command,
                                                   "environment": [{"name": k, "value": v} for k, v in environment.items()]}]},
        }
        if like.capacity:
            request["capacityProviderStrategy"] = [{"capacityProvider": c.provider, "weight": c.weight, "base": c.base}
                                                   for c in like.capacity]
        else:
            request["launchType"] = like.launch_type or "FARGATE"
        answer = self._call("RunTask", **request)
        if answer.get("failures") or not answer.get("tasks"):
            failure = (answer.get("failures") or [{}])[0]
            return Started(None, failure.get("reason", "no task returned") + (f" ({failure['detail']})" if failure.get("detail") else ""))
        return Started(answer["tasks"][0]["taskArn"])

    def stop_task(self, cluster: str, arn: str, reason: str) -> None:
        self._call("StopTask", cluster=cluster, task=arn, reason=reason)

    def execute_command(self, cluster: str, task: str, container: str, command: str) -> CommandSession:
        answer = self._call("ExecuteCommand", cluster=cluster, task=task, container=container, command=command, interactive=True)
        return CommandSession(answer["session"])


def _service(raw: dict[str, Any]) -> Service:
    configuration = raw.get("deploymentConfiguration") or {}
    breaker = configuration.get("deploymentCircuitBreaker") or {}
    vpc = (raw.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    groups = tuple(arn for lb in raw.get("loadBalancers", [])
                   for arn in (lb.get("targetGroupArn"), (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")) if arn)
    return Service(
        arn=raw.get("serviceArn", ""), name=raw.get("serviceName", ""), task_definition=raw.get("taskDefinition", ""),
        desired=int(raw.get("desiredCount") or 0), running=int(raw.get("runningCount") or 0), pending=int(raw.get("pendingCount") or 0),
        deployments=tuple(Deployment(d.get("id", ""), d.get("status", ""), d.get("rolloutState", ""), d.get("rolloutStateReason", ""),
                                     d.get("taskDefinition", ""), int(d.get("runningCount") or 0), int(d.get("desiredCount") or 0),
                                     int(d.get("pendingCount") or 0), int(d.get("failedTasks") or 0))
                          for d in raw.get("deployments", [])),
        target_groups=groups,
        network=Network(tuple(vpc.get("subnets", [])), tuple(vpc.get("securityGroups", [])), vpc.get("assignPublicIp") == "ENABLED"),
        capacity=tuple(CapacityShare(c["capacityProvider"], int(c.get("weight") or 0), int(c.get("base") or 0))
                       for c in raw.get("capacityProviderStrategy") or []),
        launch_type=raw.get("launchType") or "",
        circuit_breaker=bool(breaker.get("enable")) and bool(breaker.get("rollback")),
        circuit_breaker_setting=dict(breaker),
        deployment_alarms=tuple(((configuration.get("alarms") or {}).get("alarmNames")) or ()),
        bake_minutes=float(configuration.get("bakeTimeInMinutes") or 0),
        events=tuple(e.get("message", "") for e in raw.get("events", [])),
        exec_enabled=bool(raw.get("enableExecuteCommand")),
    )


def _task(raw: dict[str, Any]) -> Task:
    return Task(
        arn=raw["taskArn"], task_definition=raw.get("taskDefinitionArn", ""), last_status=raw.get("lastStatus", ""),
        stopped_reason=raw.get("stoppedReason", ""), started_at=str(raw.get("startedAt") or ""), stopped_at=str(raw.get("stoppedAt") or ""),
        exec_enabled=bool(raw.get("enableExecuteCommand")),
        containers=tuple(Container(c.get("name", ""), c.get("exitCode"), c.get("runtimeId", ""), c.get("reason", ""))
                         for c in raw.get("containers", [])))
