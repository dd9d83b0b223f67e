"""AWS::ECS::Service: moto's model ignores the load balancers, network and
deployment configuration of a template; this handler creates the service in
moto's ECS backend with all of them, so DescribeServices reports what
CloudFormation was asked for, and starts a deployment of real task processes
(rollout.py) whenever the task definition or the desired count changes."""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ecs.models import Service, ecs_backends

from shipyard.localaws.core.base import Handler, flag, lower_keys, patch, properties, tags_list, wrap
from shipyard.localaws.ecr import handlers as ecr_handlers
from shipyard.localaws.ecs import exec_sessions, rollout, service_connect, task_runtime


def _configure(service: Any, props: dict[str, Any]) -> Any:
    service.deployment_configuration = lower_keys(props.get("DeploymentConfiguration", {}))
    service.health_check_grace_period_seconds = props.get("HealthCheckGracePeriodSeconds")
    service.enable_ecs_managed_tags = bool(props.get("EnableECSManagedTags", False))
    service.enable_execute_command = str(props.get("EnableExecuteCommand", False)).lower() == "true"
    service.platform_version = props.get("PlatformVersion") or "LATEST"
    service.service_connect_configuration = props.get("ServiceConnectConfiguration") or {}
    if props.get("CapacityProviderStrategy"):  # a strategy replaces the launch type, which AWS then leaves out
        service.capacity_provider_strategy = lower_keys(props["CapacityProviderStrategy"])
        service.launch_type = None
    return service


def _start_rollout(service: Any, previous_task_definition: str | None, previous_count: int = 0) -> None:

    if service.desired_count > 0:
        target_group = next((lb.get("targetGroupArn") for lb in service.load_balancers or []), None)
        rollout.begin(service, previous_task_definition, target_group, previous_count)


def scale_service(account: str, region: str, cluster: str, name: str, minimum: int, maximum: int) -> None:
    """Application Auto Scaling moved the bounds: bring the service's desired count inside them, as AWS does."""
    backend = ecs_backends[account][region]
    service = backend.services.get(f"{cluster}:{name}")
    if service is None:
        return
    wanted = min(max(service.desired_count, minimum), maximum)
    if wanted != service.desired_count:

        previous, service.desired_count = service.desired_count, wanted
        rollout.scale(service, previous)


class EcsService(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "ServiceName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECS::Service"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Name", "ServiceArn")

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = ecs_backends[account_id][region_name]
        service = backend.create_service(
            cluster_str=str(props["Cluster"]).split("/")[-1],
            service_name=resource_name,
            desired_count=int(props.get("DesiredCount", 1)),
            task_definition_str=props.get("TaskDefinition"),
            load_balancers=lower_keys(props.get("LoadBalancers", [])),
            tags=[{"key": t["Key"], "value": t["Value"]} for t in tags_list(props)],
            deployment_controller=lower_keys(props.get("DeploymentController")),
            launch_type=props.get("LaunchType") or ("FARGATE" if not props.get("CapacityProviderStrategy") else None),
            propagate_tags=props.get("PropagateTags", "NONE"),
            network_configuration=lower_keys(props.get("NetworkConfiguration")),
        )
        _start_rollout(service, None)
        return _configure(service, props)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = properties(cloudformation_json)
        backend = ecs_backends[account_id][region_name]
        previous = (original_resource.task_definition, original_resource.desired_count)
        service = backend.update_service({
            "cluster": original_resource.cluster_name,
            "service": original_resource.name,
            "task_definition": props.get("TaskDefinition"),
            "desired_count": int(props.get("DesiredCount", original_resource.desired_count)),
        })
        if (service.task_definition, service.desired_count) != previous:
            _start_rollout(service, previous[0], previous[1])
        return _configure(service, props)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):

        # The service's ARN: service/<cluster>/<name> in the long format, service/<name> in the old one.
        path = str(resource_name).split(":", 5)[-1].split("/")
        cluster = path[1] if len(path) == 3 else str(cloudformation_json.get("Properties", {}).get("Cluster") or "default")
        rollout.remove(account_id, region_name, cluster.rsplit("/", 1)[-1], path[-1])
        return Service.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)


class EcsTaskDefinition(Handler, CloudFormationModel):
    """AWS::ECS::TaskDefinition: moto's model keeps only family, containers, volumes and memory, and an update
    stores the containers with template-cased keys (`Image`); DescribeTaskDefinition then reports bridge
    networking on EC2 without an image. This one registers every property the template sets."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Family"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECS::TaskDefinition"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "TaskDefinitionArn"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        definition = cls._register(resource_name, props, account_id, region_name)
        definition.template_properties = json.dumps(props, sort_keys=True, default=str)
        return definition

    @staticmethod
    def _register(resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        from moto.ecs.exceptions import EcsClientException

        containers = lower_keys(props.get("ContainerDefinitions", []))
        essential = {c.get("name") for c in containers if flag(c.get("essential", True))}
        if any(d.get("condition") in ("COMPLETE", "SUCCESS") and d.get("containerName") in essential
               for c in containers for d in c.get("dependsOn") or []):
            # RegisterTaskDefinition's own refusal (ContainerDependency, ECS API reference: "This condition can't be
            # set on an essential container").
            raise EcsClientException("A dependency container with SUCCESS or COMPLETE condition cannot be an essential container")
        return ecs_backends[account_id][region_name].register_task_definition(
            family=props.get("Family") or resource_name,
            container_definitions=containers,
            volumes=lower_keys(props.get("Volumes", [])),
            network_mode=props.get("NetworkMode"),
            tags=[{"key": t["Key"], "value": t["Value"]} for t in tags_list(props)] or None,
            requires_compatibilities=props.get("RequiresCompatibilities"),
            cpu=props.get("Cpu"),
            memory=props.get("Memory"),
            task_role_arn=props.get("TaskRoleArn"),
            execution_role_arn=props.get("ExecutionRoleArn"),
            runtime_platform=lower_keys(props.get("RuntimePlatform")),
            ephemeral_storage=lower_keys(props.get("EphemeralStorage")),
        )

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # Every property is create-only: CloudFormation registers a new revision (even one identical to an older
        # revision) and keeps the one it replaced until cleanup, so a rollback returns to that very revision instead
        # of registering another. Only that one: an older revision with the same properties is not reused.
        wanted = json.dumps(properties(cloudformation_json), sort_keys=True, default=str)
        replaced = getattr(original_resource, "replaced", None)
        if replaced is not None and getattr(replaced, "template_properties", None) == wanted and replaced.status == "ACTIVE":
            return replaced
        revision = cls.create_from_cloudformation_json(original_resource.family, cloudformation_json, account_id, region_name)
        revision.replaced = original_resource
        return revision

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        if resource_name and ":task-definition/" in resource_name:
            ecs_backends[account_id][region_name].deregister_task_definition(resource_name)


class ClusterCapacityProviderAssociations(Handler, CloudFormationModel):
    """AWS::ECS::ClusterCapacityProviderAssociations (skipped by moto): the cluster's capacity providers."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECS::ClusterCapacityProviderAssociations"

    def __init__(self, cluster: str) -> None:
        self.physical_id = cluster
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        cluster = str(props["Cluster"]).split("/")[-1]
        ecs_backends[account_id][region_name].put_cluster_capacity_providers(
            cluster, props.get("CapacityProviders", []), lower_keys(props.get("DefaultCapacityProviderStrategy", [])))
        return cls(cluster)

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # the associations go with the cluster


# Corrections of moto's own ECS behaviour.

def _describe_services(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:

        result, failures = original(self, *args, **kwargs)
        for service in result:
            rollout.advance(service)
            # Each deployment carries the Service Connect configuration it runs with (ECS API reference, Deployment),
            # a service scaled to zero too.
            connect = getattr(service, "service_connect_configuration", None)
            for deployment in service.deployments or []:
                if connect and isinstance(deployment, dict):
                    deployment["serviceConnectConfiguration"] = lower_keys(connect)
        return result, failures

    return wrapper


def _list_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult


    cluster = str(self._get_param("cluster", "default")).rsplit("/", 1)[-1]
    service = str(self._get_param("service")).rsplit("/", 1)[-1]
    found = rollout.service_deployments(self.current_account, self.region, cluster, service)
    return ActionResult({"serviceDeployments": [
        {k: d[k] for k in ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "status")}
        | {"targetServiceRevisionArn": d["targetServiceRevision"]["arn"]} for d in found]})


def _describe_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult


    arns = self._get_param("serviceDeploymentArns", [])
    found = []
    for arn in arns:
        cluster, service = arn.split(":service-deployment/", 1)[1].split("/")[:2]
        found += [d for d in rollout.service_deployments(self.current_account, self.region, cluster, service)
                  if d["serviceDeploymentArn"] == arn]
    missing = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in {d["serviceDeploymentArn"] for d in found}]
    return ActionResult({"serviceDeployments": found, "failures": missing})


def _list_tasks(original: Any) -> Any:
    """The service's tasks run as processes (task_runtime.py); ListTasks lists them as ECS does."""

    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        from moto.core.responses import ActionResult


        cluster = str(self._get_param("cluster", "default")).rsplit("/", 1)[-1]
        service = self._get_param("serviceName")
        status = self._get_param("desiredStatus", "RUNNING")
        arns = [t.arn for t in task_runtime.tasks(self.current_account, self.region, cluster)
                if (service is None or t.group == f"service:{service}") and t.desired_status == status]
        if not arns:
            return original(self)
        return ActionResult({"taskArns": arns})

    return wrapper


def _describe_tasks(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        from moto.core.responses import ActionResult


        wanted = self._get_param("tasks", [])
        ours = [task_runtime.find(arn) for arn in wanted]
        if not any(ours):
            return original(self)
        return ActionResult({"tasks": [t.describe() for t in ours if t],
                             "failures": [{"arn": arn, "reason": "MISSING"} for arn, t in zip(wanted, ours, strict=True) if t is None]})

    return wrapper


def _run_task(self: Any) -> Any:
    """RunTask: a standalone task of the task definition as a process, with the container override's command and
    environment, and ECS's own refusals for a Fargate task (a cluster and an awsvpc network configuration)."""
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import ClusterNotFoundException, InvalidParameterException


    backend = ecs_backends[self.current_account][self.region]
    cluster = str(self._get_param("cluster", "default")).rsplit("/", 1)[-1]
    if cluster not in backend.clusters:
        raise ClusterNotFoundException
    definition = backend.describe_task_definition(self._get_param("taskDefinition"))
    network = self._get_param("networkConfiguration") or {}
    if definition.network_mode == "awsvpc" and not (network.get("awsvpcConfiguration") or {}).get("subnets"):
        raise InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    overrides = {o.get("name"): o for o in (self._get_param("overrides") or {}).get("containerOverrides", [])}
    unknown = sorted(set(overrides) - {c.get("name") for c in definition.container_definitions})
    if unknown:
        raise InvalidParameterException(f"Override for container named {unknown[0]} is not a container in the TaskDefinition.")
    count = int(self._get_param("count", 1))
    started = [task_runtime.start(account=self.current_account, region=self.region, cluster=cluster, service=None,
                                  task_definition=definition, started_by=self._get_param("startedBy", ""), overrides=overrides,
                                  exec_enabled=bool(self._get_param("enableExecuteCommand", False)))
               for _ in range(count)]
    return ActionResult({"tasks": [t.describe() for t in started], "failures": []})


def _stop_task(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        from moto.core.responses import ActionResult


        task = task_runtime.find(str(self._get_param("task")))
        if task is None:
            return original(self)
        task_runtime.stop(task, self._get_param("reason") or "Task stopped by user")
        return ActionResult({"task": task.describe()})

    return wrapper


def _delete_service(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        answer = original(self)
        rollout.remove(self.current_account, self.region, str(self._get_param("cluster") or "default").rsplit("/", 1)[-1],
                       str(self._get_param("service")).rsplit("/", 1)[-1])
        return answer

    return wrapper


def _execute_command(self: Any) -> Any:
    """ExecuteCommand: ECS's refusals (the task must run, with exec enabled when it started, and the SSM agent must
    reach its channels through the task role), then a session the embedded AWS's session plugin connects to."""
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import ClusterNotFoundException, InvalidParameterException


    backend = ecs_backends[self.current_account][self.region]
    cluster = str(self._get_param("cluster", "default")).rsplit("/", 1)[-1]
    if cluster not in backend.clusters:
        raise ClusterNotFoundException
    task = task_runtime.find(str(self._get_param("task")))
    if task is None or task.cluster != cluster or task.last_status != "RUNNING":
        raise InvalidParameterException("The specified task is not running.")
    if not self._get_param("interactive"):
        raise InvalidParameterException("Interactive is the only mode supported currently.")
    if not task.exec_enabled:
        raise InvalidParameterException(
            "The execute command failed because execute command was not enabled when the task was run or the execute "
            "command agent isn\u2019t running. Wait and try again or run a new task with execute command enabled and try again.")
    definition = backend.describe_task_definition(task.task_definition)
    if not exec_sessions.role_reaches_channels(task.account, definition.task_role_arn):
        raise exec_sessions.target_not_connected()
    logging = ((backend.clusters[cluster].configuration or {}).get("executeCommandConfiguration") or {})
    audit_group = (logging.get("logConfiguration") or {}).get("cloudWatchLogGroupName") if logging.get("logging") == "OVERRIDE" else None
    session = exec_sessions.open_session(task, str(self._get_param("command")), audit_group)
    return ActionResult({"clusterArn": backend.clusters[cluster].arn, "containerArn": f"{task.arn}/{task.container}",
                         "containerName": task.container, "interactive": True, "session": session, "taskArn": task.arn})


def _stop_service_deployment(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException


    arn = self._get_param("serviceDeploymentArn")
    if not rollout.stop(self.current_account, self.region, arn, "Service deployment rolled back because of a stop request"):
        raise InvalidParameterException(f"The service deployment {arn} is not in progress and cannot be stopped.")
    return ActionResult({"serviceDeploymentArn": arn})


def _update_service(original: Any) -> Any:
    """UpdateService through the API: a new task definition deploys, a new desired count scales (as the ECS service
    scheduler does), in the task processes of rollout.py."""
    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        backend = ecs_backends[self.current_account][self.region]
        cluster = str(self._get_param("cluster", "default")).rsplit("/", 1)[-1]
        before = backend.services.get(f"{cluster}:{str(self._get_param('service')).rsplit('/', 1)[-1]}")
        previous = (before.task_definition, before.desired_count) if before is not None else None
        answer = original(self)
        if before is not None and previous is not None:

            if before.task_definition != previous[0]:
                _start_rollout(before, previous[0], previous[1])
            elif before.desired_count != previous[1]:
                rollout.scale(before, previous[1])
        return answer

    return wrapper


def _configure_cluster(cluster: Any, cloudformation_json: dict[str, Any]) -> Any:
    props = properties(cloudformation_json)
    cluster.tags = [{"key": t["Key"], "value": t["Value"]} for t in tags_list(props)] or cluster.tags
    if props.get("Configuration"):
        cluster.configuration = lower_keys(props["Configuration"])
    if props.get("ClusterSettings"):
        cluster.settings = lower_keys(props["ClusterSettings"])
    return cluster


def _cluster_as_templated(original: Any) -> Any:
    def create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        return _configure_cluster(original(resource_name, cloudformation_json, account_id, region_name, **kwargs),
                                  cloudformation_json)

    return classmethod(create)


def _cluster_updated_as_templated(original: Any) -> Any:
    def update(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
               account_id: str, region_name: str) -> Any:
        return _configure_cluster(original(original_resource, new_resource_name, cloudformation_json, account_id,
                                           region_name), cloudformation_json)

    return classmethod(update)


def reset() -> None:
    """Deployments stop and every task process with them, and the Service Connect proxy."""
    rollout.reset()
    service_connect.reset()


def install() -> None:
    ecr_handlers.PUSHED.append(task_runtime.warm)
    task_runtime.VARIABLE_SOURCES.append(service_connect.variables)
    from moto.ecs.models import Cluster, EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse

    for action, handler in (("list_service_deployments", _list_service_deployments),
                            ("describe_service_deployments", _describe_service_deployments),
                            ("stop_service_deployment", _stop_service_deployment)):
        patch(EC2ContainerServiceResponse, action, handler,
              corrects=f"{action} is not implemented; the embedded AWS's deployments (rollout.py) answer it")
    patch(EC2ContainerServiceResponse, "execute_command", _execute_command,
          corrects="ExecuteCommand is not implemented; sessions run the command in the task process's environment")
    patch(EC2ContainerServiceResponse, "run_task", _run_task,
          corrects="RunTask records a task that never runs (and takes no network configuration); the task runtime runs it")
    wrap(EC2ContainerServiceResponse, "stop_task", _stop_task,
         corrects="(with the above) StopTask stops the task's process with its stop signal and timeout")
    wrap(EC2ContainerServiceResponse, "delete_service", _delete_service,
         corrects="DeleteService leaves the service's tasks running; ECS stops them (force: at once, at any desired count)")
    wrap(EC2ContainerServiceResponse, "update_service", _update_service,
         corrects="UpdateService through the API changes the record only; ECS deploys a new task definition or scales to a new count")
    wrap(EC2ContainerServiceResponse, "list_tasks", _list_tasks,
         corrects="a service's tasks do not exist (moto runs none); the task runtime's processes are its tasks")
    wrap(EC2ContainerServiceResponse, "describe_tasks", _describe_tasks,
         corrects="(with the above) DescribeTasks reports the processes' state, exit code and stop reason")
    patch(Cluster, "create_from_cloudformation_json", _cluster_as_templated(Cluster.create_from_cloudformation_json),
          corrects="a cluster made by CloudFormation drops the template's Tags, Configuration (ECS Exec logging) and "
                   "ClusterSettings (Container Insights)")
    patch(Cluster, "update_from_cloudformation_json", _cluster_updated_as_templated(Cluster.update_from_cloudformation_json),
          corrects="(with the above) a stack update of a cluster changes nothing of it but its name")
    wrap(EC2ContainerServiceBackend, "describe_services", _describe_services,
         corrects="deployments never progress (moto runs no tasks); rollout.py runs them on task processes as ECS would")
