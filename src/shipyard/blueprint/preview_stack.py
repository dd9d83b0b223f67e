"""A preview environment's one stack: every workload of the app, once, inside its base environment (docs/previews.md).

What is slow or dear to create is the base's and shared: the VPC and the preview security group, the load balancer's
listener (a preview adds a target group and a rule per web workload, at priorities after every base rule, matching
only its /pv/<name>/ paths with its name in the header the distribution's function sets), the distribution (which
serves its site files from the bucket's pv/<name>/ prefix) and the database server (a database and a user of its
own, in a secret of its own). Everything else is the preview's: its cluster, its one service whose one task runs
every service workload as a container (each on its own port, backends on localhost: blueprint/preview_service.py), its
jobs' task definitions, queues and topics and log groups, all tagged shipyard:preview=<name>, and deleted with it.

The base's foundation stack exports what the preview is built into (its outputs, read by the deploy engine into
this stack's parameters); the images come as parameters too, by digest.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import BootstraplessSynthesizer, CfnOutput, CfnParameter, Stack, Tags
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from shipyard import naming
from shipyard.blueprint.fan_out import FanOut
from shipyard.blueprint.load_balancer import DEREGISTRATION_DELAY, HEALTH_CHECK_INTERVAL, HEALTH_CHECK_TIMEOUT, HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD
from shipyard.blueprint.preview_database import PreviewDatabase
from shipyard.blueprint.preview_service import PreviewService, preview_size
from shipyard.blueprint.preview_workload import DATABASE_CONTAINER, PreviewWorkload, own_task
from shipyard.blueprint.stacks import Settings, _construct_id
from shipyard.blueprint.suppressions import CONTAINER_INSIGHTS_OPTIONAL, suppress
from shipyard.blueprint.work_queue import WorkQueue
from shipyard.config.workloads import PRIMARY
from shipyard.naming import CONTAINER, Output

PATH_PREFIX_VARIABLE = "SHIPYARD_PATH_PREFIX"  # /pv/<name>: what a preview's web workloads are reached under


@dataclass(frozen=True)
class PreviewSettings:
    base: Settings  # the base environment's, whose app, workloads and database the preview carries
    name: str  # naming.preview_name's
    slot: int  # its place among the listener's rules (naming.preview_rule_priority)
    expires: str  # ISO 8601 UTC: when `preview prune` may destroy it
    migrate: tuple[str, ...] = ()  # [release] migrate's command, which [service]'s task runs before it starts

    @property
    def env(self):
        return self.base.env.preview(self.name)

    def database_name(self) -> str:
        return f"{self.base.database.name}_{naming.PREVIEW_INFIX}_{self.name.replace('-', '_')}"

    def database_user(self) -> str:
        return f"{naming.PREVIEW_INFIX}_{self.name.replace('-', '_')}"

    def web_workloads(self) -> list[str]:
        """The workloads with a listener rule, [service] first: the order their priorities take in the slot."""
        return [PRIMARY, *sorted(self.base.web_services)]


def image_parameter(workload: str) -> str:
    """The stack parameter a workload's image (repository@sha256:digest) is handed in."""
    return f"Image{_construct_id(workload)}"


class PreviewStack(Stack):
    def __init__(self, scope: Construct, *, preview: PreviewSettings) -> None:
        base, env = preview.base, preview.env
        names, base_names = env.names, base.env.names
        super().__init__(scope, names.prefix, stack_name=names.prefix, env=CdkEnvironment(account=env.account, region=env.region),
                         description=f"shipyard {base.app.name} preview {preview.name} in {base.env.name}",
                         synthesizer=BootstraplessSynthesizer())
        # On the stack (what `preview list` reads) and on every resource (what the task roles' conditions read).
        self.preview_tags = {"shipyard:app": base.app.name, "shipyard:environment": base.env.name, naming.PREVIEW_TAG: preview.name,
                             naming.PREVIEW_EXPIRES_TAG: preview.expires, naming.PREVIEW_SLOT_TAG: str(preview.slot)}
        for key, value in self.preview_tags.items():
            Tags.of(self).add(key, value)
        # Every role of the preview inside the base's boundary for previews (blueprint/preview_role.py).
        iam.PermissionsBoundary.of(self).apply(iam.ManagedPolicy.from_managed_policy_name(self, "Boundary", base_names.preview_boundary))
        self.parameters_from: dict[str, tuple[str, str]] = {}

        def from_base(output: str, stack: str = base_names.foundation_stack, **options) -> CfnParameter:
            parameter = output if stack == base_names.foundation_stack else f"Base{output}"
            self.parameters_from[parameter] = (stack, output)
            return CfnParameter(self, parameter, description=f"{stack} output {output} (filled by shipyard)", **options)

        vpc_id = from_base(Output.VPC_ID, type="AWS::EC2::VPC::Id").value_as_string
        subnets = from_base(Output.TASK_SUBNETS, type="List<AWS::EC2::Subnet::Id>").value_as_list
        listener_arn = from_base(Output.LISTENER_ARN, type="String").value_as_string
        security_group = from_base(Output.PREVIEW_SECURITY_GROUP, type="AWS::EC2::SecurityGroup::Id").value_as_string
        prefix = naming.preview_path(preview.name)
        cluster = ecs.CfnCluster(self, "Cluster", cluster_name=names.cluster,
                                 capacity_providers=["FARGATE", "FARGATE_SPOT"] if env.spot else None,
                                 cluster_settings=[ecs.CfnCluster.ClusterSettingsProperty(name="containerInsights", value="disabled")])
        suppress(cluster, CONTAINER_INSIGHTS_OPTIONAL)
        queues = {name: WorkQueue(self, f"{_construct_id(name)}Queue", queue_name=names.workload(name).queue,
                                  dead_letter_queue_name=names.workload(name).dead_letter_queue, max_receive_count=w.receives,
                                  visibility_timeout_seconds=w.hidden_seconds, retain=False)
                  for name, w in base.workers.items()}
        topics = {name: FanOut(self, f"{_construct_id(name)}FanOut", topic_name=names.topic(name),
                               queues=[queues[w].queue for w in topic.subscribers], raw_delivery=topic.raw_delivery)
                  for name, topic in base.topics.items()}
        database = None
        if base.database:
            self.database = PreviewDatabase(
                self, "Database", names=names, base_names=base_names, preview=preview.name, user=preview.database_user(),
                database=preview.database_name(), base_database=base.database.name,
                master_secret_arn=from_base(Output.DATABASE_SECRET_ARN, base_names.data_stack, type="String").value_as_string,
                architecture=env.architecture, log_retention_days=env.log_retention_days)
            database = self.database.client_secrets
            CfnOutput(self, Output.DATABASE_SECRET_ARN, value=self.database.secret.secret_arn)
        ports = base.preview_ports

        def variables(publishes: list[str], calls: list[str], wants_database: bool) -> dict[str, str]:
            # A backend is a container of the same task: on localhost, at its port in the preview.
            return {**{naming.queue_variable(n): queues[n].queue.queue_url for n in publishes if n in queues},
                    **{naming.topic_variable(n): topics[n].topic.topic_arn for n in publishes if n in topics},
                    **{naming.service_variable(b): f"http://127.0.0.1:{ports[b]}" for b in calls},
                    **({"PGSSLMODE": "require", "PGDATABASE": preview.database_name()} if database and wants_database else {})}

        members = {PRIMARY: (base.service, "web"), **{n: (w, w.kind) for n, w in base.workloads.items()},
                   **{n: (j, "job") for n, j in base.jobs.items()}}
        running = [name for name, (_, kind) in members.items() if kind != "job"]
        cpu, memory = preview_size(len(running))
        primary_names = names.workload(PRIMARY)
        self.task_definition = own_task(self, names=primary_names, preview=preview.name, cpu=cpu, memory=memory,
                                        architecture=env.architecture)
        self.workloads: dict[str, PreviewWorkload] = {}
        routes: list[tuple[str, int, str]] = []
        for name, (workload, kind) in members.items():
            own, construct = names.workload(name), _construct_id(name)
            primary = name == PRIMARY
            container = CONTAINER if primary else name
            port = ports.get(name)
            health = workload.health_check_path if primary else None if kind in ("worker", "job") else workload.health_path
            if kind == "web":
                target_group = self._route(construct, preview, index=preview.web_workloads().index(name), vpc_id=vpc_id,
                                           listener_arn=listener_arn, port=port, health_path=prefix + health,
                                           paths=[prefix + r for r in (base.edge_routes if primary else workload.routes)])
                routes.append((container, port, target_group.ref))
            image = CfnParameter(self, image_parameter(name), type="String", allowed_pattern=r"^[^@\s]+@sha256:[0-9a-f]{64}$",
                                 description=f"{name}'s image (repository@sha256:digest)").value_as_string
            task_definition = self.task_definition if kind != "job" else own_task(
                Construct(self, f"{construct}Job"), names=own, preview=preview.name, cpu=env.cpu, memory=env.memory,
                architecture=env.architecture)
            self.workloads[name] = PreviewWorkload(
                self, construct, names=own, task_definition=task_definition, container_name=container, image=image,
                repository_name=base_names.repository if primary else base_names.workload(name).repository, port=port,
                environment={**workload.environment, **variables(workload.publishes, getattr(workload, "calls", []), workload.database
                                                                 if not primary else True),
                             **({PATH_PREFIX_VARIABLE: prefix} if kind == "web" else {}),
                             **({naming.OWN_QUEUE_VARIABLE: queues[name].queue.queue_url} if name in queues else {})},
                secrets=database if database and (primary or workload.database) else {},
                log_retention_days=env.log_retention_days, container_health_path=health if kind == "backend" else None,
                stop_timeout=getattr(workload, "stop_timeout", 30), migrate=list(preview.migrate) if primary and database else None)
            role = task_definition.task_role
            if name in queues:
                queues[name].queue.grant_consume_messages(role)
            for target in workload.publishes:
                (topics[target].topic.grant_publish if target in topics else queues[target].queue.grant_send_messages)(role)
        if base.database:
            # The task makes the preview's database (psql, as the server's master user), then applies the migrations,
            # and only then starts its workloads: a new preview is ready in one stack creation, and every later task
            # finds both done (CREATE_SQL and the migrations are idempotent). Fargate pulls every image of the task at
            # once, so each waited-for container costs its run only (docs/previews.md, "Its database").
            primary = self.workloads[PRIMARY]
            made = self.database.add_to(self.task_definition, name=DATABASE_CONTAINER, log_group=primary.log_group, essential=False)
            ready = primary.migrations or made
            if primary.migrations:
                primary.migrations.add_container_dependencies(
                    ecs.ContainerDependency(container=made, condition=ecs.ContainerDependencyCondition.SUCCESS))
            for name in running:
                if not (name == PRIMARY and primary.migrations):  # [service]'s container waits for its migrations already
                    self.workloads[name].container.add_container_dependencies(
                        ecs.ContainerDependency(container=ready, condition=ecs.ContainerDependencyCondition.SUCCESS))
        self.service = PreviewService(self, "Service", service_name=primary_names.service, cluster=cluster.ref,
                                      task_definition=self.task_definition, subnets=subnets, security_group=security_group,
                                      spot=env.spot, routes=routes, awake=base.previews.schedule)
        CfnOutput(self, Output.CLUSTER_NAME, value=cluster.ref)

    def _route(self, construct: str, preview: PreviewSettings, *, index: int, vpc_id: str, listener_arn: str, port: int, health_path: str,
               paths: list[str]) -> elbv2.CfnTargetGroup:
        """A web workload's target group and its rule on the base listener: its paths under the prefix, and its name in
        the header, after every base rule (naming.preview_rule_priority)."""
        target_group = elbv2.CfnTargetGroup(
            self, f"{construct}TargetGroup", vpc_id=vpc_id, port=port, protocol="HTTP", target_type="ip",
            health_check_path=health_path, health_check_interval_seconds=int(HEALTH_CHECK_INTERVAL.to_seconds()),
            health_check_timeout_seconds=int(HEALTH_CHECK_TIMEOUT.to_seconds()), healthy_threshold_count=HEALTHY_THRESHOLD,
            unhealthy_threshold_count=UNHEALTHY_THRESHOLD, matcher=elbv2.CfnTargetGroup.MatcherProperty(http_code="200"),
            target_group_attributes=[elbv2.CfnTargetGroup.TargetGroupAttributeProperty(
                key="deregistration_delay.timeout_seconds", value=str(int(DEREGISTRATION_DELAY.to_seconds())))])
        elbv2.CfnListenerRule(
            self, f"{construct}Rule", listener_arn=listener_arn, priority=naming.preview_rule_priority(preview.slot, index),
            conditions=[elbv2.CfnListenerRule.RuleConditionProperty(
                            field="path-pattern", path_pattern_config=elbv2.CfnListenerRule.PathPatternConfigProperty(values=paths)),
                        elbv2.CfnListenerRule.RuleConditionProperty(
                            field="http-header", http_header_config=elbv2.CfnListenerRule.HttpHeaderConfigProperty(
                                http_header_name=naming.PREVIEW_HEADER, values=[preview.name]))],
            actions=[elbv2.CfnListenerRule.ActionProperty(type="forward", target_group_arn=target_group.ref)])
        return target_group
