"""The stacks of one environment; they only compose constructs.

  foundation  network, registry, load balancer, identity, image parameters
              (after global where shipyard creates the domain's zone: the origin certificate is validated in it)
  data        RDS for PostgreSQL, its secret and settings      (after foundation; only with [database])
  service     cluster, task definitions, service, autoscaling  (after foundation, and data)
  edge        site bucket, CloudFront                          (after foundation)
  global      budget, budget alarm, WAF web ACL (us-east-1)    (web ACL only where WAF is on)
  edge-alarms CloudFront alarms (us-east-1)                    (after edge)

service and edge depend only on foundation, so a release (a service stack
update) never waits on CloudFront, and the two deploy side by side.

Each stack receives the settings it needs (an Settings bundle, never the whole
shipyard.toml) and declares the values it takes from other stacks' outputs
(parameters_from), which synth hands the deploy engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import BootstraplessSynthesizer, CfnOutput, CfnParameter, Fn, Stack, Tags
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from shipyard import naming
from shipyard.blueprint.access_logs import AccessLogs
from shipyard.blueprint.budget import Budget
from shipyard.blueprint.database import Database
from shipyard.blueprint.domain import Domain
from shipyard.blueprint.edge import Edge
from shipyard.blueprint.edge_access_logs import EdgeAccessLogs
from shipyard.blueprint.edge_alarms import EdgeAlarms
from shipyard.blueprint.fan_out import FanOut
from shipyard.blueprint.firewall import Firewall
from shipyard.blueprint.identity import Identity, WorkloadGrant, grant_invalidation
from shipyard.blueprint.image_slot import ImageSlot
from shipyard.blueprint.load_balancer import LoadBalancer, Route
from shipyard.blueprint.network import Network, selected
from shipyard.blueprint.observability import DatabaseWatch, Observability
from shipyard.blueprint.origin_certificate import OriginCertificate
from shipyard.blueprint.preview_role import PreviewRole
from shipyard.blueprint.registry import Registry
from shipyard.blueprint.scheduled_job import ScheduledJob
from shipyard.blueprint.security_headers import SecurityHeaders
from shipyard.blueprint.service import Backlog, Service
from shipyard.blueprint.work_queue import WorkQueue
from shipyard.config import (
    ENGINE_TITLES,
    ENGINE_VERSIONS,
    AppConfig,
    DatabaseConfig,
    Environment,
    PreviewsConfig,
    ServiceConfig,
    SiteConfig,
    aurora_max_connections,
    max_connections,
)
from shipyard.config.workloads import PRIMARY, PRIMARY_ROUTES, JobConfig, TopicConfig, WorkloadConfig
from shipyard.naming import Output


@dataclass(frozen=True)
class Settings:
    """What the stacks of one environment are built from."""

    app: AppConfig
    service: ServiceConfig
    site: SiteConfig
    env: Environment
    promotes_from: Environment | None = None  # the environment whose images this one receives
    promotes_to: Environment | None = None  # the environment that copies this one's images
    database: DatabaseConfig | None = None
    workloads: dict[str, WorkloadConfig] = field(default_factory=dict)  # beside [service]: web and backend services, workers
    jobs: dict[str, JobConfig] = field(default_factory=dict)  # scheduled jobs
    topics: dict[str, TopicConfig] = field(default_factory=dict)  # SNS topics that fan out to workers
    previews: PreviewsConfig | None = None

    @property
    def hosts_previews(self) -> bool:
        """This environment is [previews]' base: its load balancer, distribution and network take previews in."""
        return self.previews is not None and self.previews.base == self.env.name

    @property
    def edge_routes(self) -> tuple[str, ...]:
        """The paths the distribution sends [service] on the load balancer."""
        return (*PRIMARY_ROUTES, self.service.health_check_path)

    @property
    def web_services(self) -> dict[str, WorkloadConfig]:
        """The workloads routed by their own paths."""
        return {name: w for name, w in self.workloads.items() if w.kind == "web"}

    @property
    def workers(self) -> dict[str, WorkloadConfig]:
        return {name: w for name, w in self.workloads.items() if w.kind == "worker"}

    @property
    def backends(self) -> dict[str, WorkloadConfig]:
        return {name: w for name, w in self.workloads.items() if w.kind == "backend"}

    @property
    def preview_ports(self) -> dict[str, int]:
        """The port each web workload and backend listens on in a preview, where they all share one task's network:
        its own port; where two share one, the later ([service] first, then by name) takes the next port above it
        that no workload has (the preview tells it in PORT; docs/previews.md)."""
        own = [(PRIMARY, self.service.port), *((n, w.container_port) for n, w in sorted(self.workloads.items())
                                               if w.kind in ("web", "backend"))]
        owned = {port for _, port in own}  # no workload is moved onto a port another has of its own
        ports: dict[str, int] = {}
        for name, port in own:
            if port in ports.values():
                port = next(p for p in itertools.count(port + 1) if p not in owned and p not in ports.values())
            ports[name] = port
        return ports


class _EnvironmentStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, region: str, description: str) -> None:
        env = settings.env
        super().__init__(
            scope, id,
            stack_name=id,
            env=CdkEnvironment(account=env.account, region=region),
            description=f"shipyard {settings.app.name} {env.name}: {description}",
            termination_protection=env.deletion_protection,
            # shipyard deploys templates itself and the blueprint has no file
            # assets, so no CDK bootstrap stack is needed in the accounts.
            synthesizer=BootstraplessSynthesizer(),
        )
        Tags.of(self).add("shipyard:app", settings.app.name)
        Tags.of(self).add("shipyard:environment", env.name)
        # CloudFormation parameter -> (stack, output) the deploy engine fills it from.
        self.parameters_from: dict[str, tuple[str, str]] = {}

    def output_of(self, source: _EnvironmentStack, output: str, parameter: str, **options: Any) -> str:
        """A value from another stack's output (possibly in another region), as a parameter the deploy engine fills."""
        value = CfnParameter(self, parameter, type="String",
                             description=f"{source.stack_name} output {output} (filled by shipyard deploy)", **options).value_as_string
        self.parameters_from[parameter] = (source.stack_name, output)
        self.add_stack_dependency(source)
        return value

    @property
    def availability_zones(self) -> list[str]:
        # Resolved by CloudFormation in the target account, so synth needs no
        # AWS lookup and the template works in every region.
        return [Fn.select(0, Fn.get_azs()), Fn.select(1, Fn.get_azs())]


class FoundationStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, settings: Settings, global_stack: GlobalStack) -> None:
        env, names, service = settings.env, settings.env.names, settings.service
        super().__init__(scope, names.foundation_stack, settings=settings, region=env.region,
                         description="network, registry, load balancer, deploy identity")
        self.origin_certificate, zone_id = None, None
        if env.origin_domain:
            zone_id = env.hosted_zone_id if env.zone_name else None
            if env.zone_name and not zone_id:  # the zone shipyard creates: the foundation waits for the global stack
                zone_id = self.output_of(global_stack, Output.HOSTED_ZONE_ID, naming.HOSTED_ZONE_PARAMETER, allowed_pattern=r"^Z[A-Z0-9]+$")
            self.origin_certificate = OriginCertificate(self, "OriginCertificate", name=env.origin_domain, zone_id=zone_id)
            CfnOutput(self, Output.ORIGIN_CERTIFICATE_ARN, value=self.origin_certificate.certificate.ref)
        self.network = Network(self, "Network", database=settings.database is not None, existing=env.network)
        self.access_logs = AccessLogs(self, "AccessLogs", bucket_name=names.logs_bucket, site_bucket_name=names.site_bucket,
                                      retention_days=env.log_retention_days, retain=env.deletion_protection)
        self.access_logs.log_rejected_traffic(self.network.vpc)
        before, after = settings.promotes_from, settings.promotes_to
        # The next environment's deploy role copies this one's images (promote): its repositories' policies let it.
        pull_roles = ((after.account, after.names.deploy_role),) if after and after.account != env.account else ()
        # What `shipyard adopt` moved in is retained whatever the environment's protection: it came with data.
        self.registry = Registry(self, "Registry", repository_name=names.repository, keep_images=env.image_retention_count,
                                 retain=env.deletion_protection or _adopted(names, "repository"), pull_roles=pull_roles)
        self.load_balancer = LoadBalancer(
            self, "LoadBalancer", vpc=self.network.vpc, subnets=self.network.load_balancer_subnets,
            name=names.load_balancer, target_port=service.port,
            health_check_path=service.health_check_path, deletion_protection=env.deletion_protection,
            access_logs=self.access_logs.bucket,
            certificate_arn=self.origin_certificate.certificate.ref if self.origin_certificate else None,
            primary_rule_priority=naming.PRIMARY_RULE_PRIORITY_BEFORE_PREVIEWS if settings.hosts_previews else
            naming.PRIMARY_RULE_PRIORITY_LAST if settings.web_services else naming.PRIMARY_RULE_PRIORITY,
            primary_paths=settings.edge_routes if settings.hosts_previews else ("/*",),
        )
        # Each workload beside [service]: its own repository, released-image parameter and security group; a web
        # service's route on the listener; a worker's queues.
        self.workloads: dict[str, WorkloadParts] = {}
        for name, workload in {**settings.workloads, **settings.jobs}.items():
            own, construct = names.workload(name), _construct_id(name)
            kind = "job" if name in settings.jobs else workload.kind
            group = self.network.workload_security_group(
                f"{construct}SecurityGroup", description=f"{own.prefix} {name} tasks: {_admits(workload, kind)}; outbound "
                                                         "HTTPS for AWS APIs")
            self.workloads[name] = WorkloadParts(
                registry=Registry(self, f"{construct}Registry", repository_name=own.repository, keep_images=env.image_retention_count,
                                  retain=env.deletion_protection or _adopted(names, "repository", name), pull_roles=pull_roles),
                image_slot=ImageSlot(self, f"{construct}ImageSlot", parameter_name=own.image_parameter,
                                     logical_id=f"{construct}ImageParameter",
                                     description=f"Released image of {settings.app.name} {env.name} {name} (written by shipyard release)"),
                route=self.load_balancer.add_route(construct, target_port=workload.container_port, health_check_path=workload.health_path,
                                                   routes=workload.routes, priority=naming.rule_priority(name),
                                                   security_group=group) if kind == "web" else None,
                queue=WorkQueue(self, f"{construct}Queue", queue_name=own.queue, dead_letter_queue_name=own.dead_letter_queue,
                                max_receive_count=workload.receives, visibility_timeout_seconds=workload.hidden_seconds,
                                retain=env.deletion_protection) if kind == "worker" else None,
                security_group=group,
            )
        # Each topic beside the queues it delivers to: a topic holds no data, but its subscriptions are the queues'.
        self.topics = {name: FanOut(self, f"{_construct_id(name)}FanOut", topic_name=names.topic(name),
                                    queues=[self.workloads[w].queue.queue for w in topic.subscribers],
                                    raw_delivery=topic.raw_delivery)
                       for name, topic in settings.topics.items()}
        _admit_callers_of(self, settings)
        if self.origin_certificate and zone_id:
            self.origin_certificate.point_to(self.load_balancer.load_balancer, name=env.origin_domain, zone_id=zone_id)
        self.image_slot = ImageSlot(self, "ImageSlot", parameter_name=names.image_parameter, logical_id="ImageParameterEAD1F3E3",
                                    description=f"Released image of {settings.app.name} {env.name} (written by shipyard release)")
        self.one_off_slot = ImageSlot(self, "OneOffImageSlot", parameter_name=names.one_off_image_parameter,
                                      logical_id="OneOffImageParameter",
                                      description=f"Image one-off tasks of {settings.app.name} {env.name} run (written by shipyard)")
        self.identity = Identity(
            self, "Identity",
            subject=settings.app.subject(f"environment:{env.name}"), names=names,
            push_subject=None if before else settings.app.subject(f"ref:refs/heads/{settings.app.branch}"),
            repository_arn=self.registry.repository.repository_arn, existing_provider_arn=env.oidc_provider_arn,
            source_repository_arn=_repository_arn(before, before.names.repository) if before else None,
            wakes=env.schedule is not None,
            workloads=tuple(WorkloadGrant(names.workload(name), parts.registry.repository.repository_arn,
                                          _repository_arn(before, before.names.workload(name).repository) if before else None,
                                          routed=parts.route is not None, queued=parts.queue is not None, scheduled=name in settings.jobs)
                            for name, parts in self.workloads.items()),
        )
        CfnOutput(self, Output.REPOSITORY_URI, value=self.registry.repository.repository_uri)
        CfnOutput(self, Output.DEPLOY_ROLE_ARN, value=self.identity.deploy_role.role_arn)
        if self.identity.push_role is not None:
            CfnOutput(self, Output.PUSH_ROLE_ARN, value=self.identity.push_role.role_arn)
        CfnOutput(self, Output.LOAD_BALANCER_DNS, value=self.load_balancer.load_balancer.load_balancer_dns_name)
        if settings.hosts_previews:
            self._take_previews_in(settings)

    def _take_previews_in(self, settings: Settings) -> None:
        """What every preview's stack is built into: the network, the listener, and the one security group previews'
        tasks run in, which the load balancer reaches on the web workloads' ports (docs/previews.md)."""
        group = self.network.workload_security_group(
            "PreviewSecurityGroup", description=f"{settings.env.names.prefix} preview tasks: HTTP from the load balancer; "
                                                "outbound HTTPS for AWS APIs")
        # A preview's backends share its one task's network (localhost): no rule of the group is theirs.
        ports = settings.preview_ports
        for port in sorted({ports[name] for name in [PRIMARY, *settings.web_services]}):
            group.add_ingress_rule(self.load_balancer.security_group, ec2.Port.tcp(port), "HTTP from the load balancer")
            self.load_balancer.security_group.add_egress_rule(group, ec2.Port.tcp(port), "HTTP to previews' tasks")
        # The site bucket and distribution are the edge stack's, which comes after: named, not referenced.
        PreviewRole(self, "PreviewRole", names=settings.env.names, provider_arn=self.identity.provider_arn,
                    subject=settings.app.subject("pull_request"), prune_subject=settings.app.subject(f"ref:refs/heads/{settings.app.branch}"),
                    site_bucket=settings.env.names.site_bucket,
                    repository_arns=[self.registry.repository.repository_arn,
                                     *(parts.registry.repository.repository_arn for parts in self.workloads.values())])
        CfnOutput(self, Output.PREVIEW_ROLE_ARN, value=f"arn:aws:iam::{settings.env.account}:role/{settings.env.names.preview_role}")
        CfnOutput(self, Output.VPC_ID, value=self.network.vpc.vpc_id)
        CfnOutput(self, Output.TASK_SUBNETS, value=Fn.join(",", selected(self.network.vpc, self.network.task_subnets).subnet_ids))
        CfnOutput(self, Output.LISTENER_ARN, value=self.load_balancer.listener.listener_arn)
        CfnOutput(self, Output.PREVIEW_SECURITY_GROUP, value=group.security_group_id)
        self.preview_security_group = group


def _admit_callers_of(foundation: FoundationStack, settings: Settings) -> None:
    """Each backend admits exactly the workloads that declare they call it, on its port; each caller may reach it."""
    callers = [(naming.PRIMARY_SERVICE, settings.service.calls, foundation.load_balancer.target_security_group)]
    callers += [(name, w.calls, foundation.workloads[name].security_group) for name, w in settings.workloads.items()]
    for caller, calls, group in callers:
        for backend in calls:
            port, target = settings.workloads[backend].container_port, foundation.workloads[backend].security_group
            target.add_ingress_rule(group, ec2.Port.tcp(port), f"{caller} calls {backend} (Service Connect)")
            group.add_egress_rule(target, ec2.Port.tcp(port), f"{caller} calls {backend} (Service Connect)")


def _admits(workload: WorkloadConfig | JobConfig, kind: str) -> str:
    """What a workload's security group admits, for its description."""
    if kind == "web":
        return "HTTP from the load balancer only"
    if kind == "backend":
        return f"port {workload.container_port} from the workloads that call it only"
    return "no inbound"


class DataStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, settings: Settings, foundation: FoundationStack) -> None:
        env, names, database = settings.env, settings.env.names, settings.database
        assert database is not None and foundation.network.database_subnets is not None
        super().__init__(scope, names.data_stack, settings=settings, region=env.region,
                         description=f"{ENGINE_TITLES[database.engine]}, reachable only by the service's tasks")
        self.database = Database(
            self, "Database", vpc=foundation.network.vpc, subnets=foundation.network.database_subnets,
            task_security_group=foundation.load_balancer.target_security_group, names=names, engine=database.engine,
            version=ENGINE_VERSIONS[database.engine][database.version], min_capacity=env.database_min_capacity,
            max_capacity=env.database_max_capacity,
            database_name=database.name, username=database.username, instance_class=env.database_instance_class,
            storage_gb=env.database_storage_gb, backup_days=env.database_backup_days, multi_az=env.database_multi_az,
            keep_final_snapshot=env.deletion_protection or env.is_production, log_retention_days=env.log_retention_days,
            performance_insights=database.performance_insights, monitoring_interval=database.monitoring_interval,
            production=env.is_production,
            other_clients=tuple((name, foundation.workloads[name].security_group)
                                for name, w in {**settings.workloads, **settings.jobs}.items() if w.database)
            + ((("preview", foundation.preview_security_group),) if settings.hosts_previews else ()),
        )
        self.add_stack_dependency(foundation)
        CfnOutput(self, Output.DATABASE_SECRET_ARN, value=self.database.secret_arn)
        CfnOutput(self, Output.DATABASE_IDENTIFIER, value=self.database.primary.ref)


def _database_watch(settings: Settings) -> DatabaseWatch:
    env, database = settings.env, settings.database
    assert database is not None
    if database.engine == "aurora-postgresql":
        return DatabaseWatch(env.names.database, None, aurora_max_connections(env.database_max_capacity))
    return DatabaseWatch(env.names.database, env.database_storage_gb, max_connections(env.database_instance_class))


def _database_secrets(scope: Construct, data: DataStack) -> dict[str, ecs.Secret]:
    """libpq's own variables, so a client connects with no settings of its own: all of them ECS secrets."""
    database = data.database
    secret = secretsmanager.Secret.from_secret_complete_arn(scope, "DatabaseSecret", database.secret_arn)
    return {
        "PGHOST": ecs.Secret.from_ssm_parameter(database.parameters["host"]),
        "PGPORT": ecs.Secret.from_ssm_parameter(database.parameters["port"]),
        "PGDATABASE": ecs.Secret.from_ssm_parameter(database.parameters["name"]),
        "PGUSER": ecs.Secret.from_secrets_manager(secret, "username"),
        "PGPASSWORD": ecs.Secret.from_secrets_manager(secret, "password"),
    }


class ServiceStack(_EnvironmentStack):
    _granted_database: dict[str, ecs.Secret] | None = None

    def _database_secrets(self, data: DataStack) -> dict[str, ecs.Secret]:
        """The database's settings as ECS secrets, made once per stack and given to every workload that connects."""
        if self._granted_database is None:
            self._granted_database = _database_secrets(self, data)
        return self._granted_database

    def _connect(self, name: str, workload: WorkloadConfig | None, calls: list[str]) -> ecs.ServiceConnectProps | None:
        """A backend serves its name in the namespace; a workload that calls one is a client of it; others stay out."""
        if self.namespace is None:
            return None
        if workload is not None and workload.kind == "backend":
            return ecs.ServiceConnectProps(namespace=self.namespace.namespace_arn, services=[ecs.ServiceConnectService(
                port_mapping_name="http", discovery_name=name, dns_name=name, port=workload.container_port)])
        return ecs.ServiceConnectProps(namespace=self.namespace.namespace_arn) if calls else None

    def __init__(self, scope: Construct, *, settings: Settings, foundation: FoundationStack, data: DataStack | None) -> None:
        env, names, service = settings.env, settings.env.names, settings.service
        super().__init__(scope, names.service_stack, settings=settings, region=env.region, description="ECS Fargate service")
        # TLS to the database: the server refuses anything else (rds.force_ssl), and libpq asks for it.
        # Backends are reached by name through ECS Service Connect, in one Cloud Map namespace of the environment.
        self.namespace = servicediscovery.HttpNamespace(
            self, "Namespace", name=names.namespace, description=f"{names.prefix}: Service Connect names of its backend services",
        ) if settings.backends else None
        environment = {**service.environment, **_queue_variables(foundation, service.publishes),
                       **_backend_variables(settings, service.calls), **({"PGSSLMODE": "require"} if data else {})}
        self.service = Service(
            self, "Web",
            vpc=foundation.network.vpc, subnets=foundation.network.task_subnets,
            security_group=foundation.load_balancer.target_security_group,
            target_group=foundation.load_balancer.target_group,
            alternate_target_group=foundation.load_balancer.alternate_target_group,
            production_rule=foundation.load_balancer.production_rule,
            repository=foundation.registry.repository,
            names=names, log_retention_days=env.log_retention_days,
            architecture=env.architecture, spot=env.spot, awake=env.schedule, ecs_exec=env.ecs_exec, cpu=env.cpu, memory=env.memory, port=service.port,
            desired_count=env.desired_count, max_count=env.max_count, cpu_target=env.cpu_target,
            stop_timeout=service.stop_timeout, health_check_grace_seconds=service.health_check_grace_seconds,
            environment=environment, secrets=service.secrets,
            granted_secrets=self._database_secrets(data) if data else None,
            # A worker scales on its backlog per running task, which Container Insights counts.
            container_insights=env.container_insights or bool(settings.workers),
            retain_logs=env.deletion_protection or _adopted(names, "log_group"),
            service_connect=self._connect(naming.PRIMARY_SERVICE, None, service.calls),
        )
        lb = foundation.load_balancer
        self.observability = Observability(
            self, "Observability", prefix=names.prefix, load_balancer=lb.load_balancer.load_balancer_full_name,
            target_groups=(lb.target_group.target_group_full_name, lb.alternate_target_group.target_group_full_name),
            cluster_name=names.cluster, service_name=names.service,
            running_target=self.service.running_target, slo_target=env.slo_target, latency_p95_ms=env.latency_p95_ms,
            emails=env.alert_emails, web_acl_name=names.web_acl if env.waf else None,
            database=_database_watch(settings) if data else None, sleeps=env.schedule is not None,
        )
        self.service.service.enable_deployment_alarms(
            [self.observability.deployment_five_xx.alarm_name], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)
        self.workloads = {}
        for name, workload in settings.workloads.items():
            parts, own = foundation.workloads[name], names.workload(name)
            cpu, memory, desired_count, max_count = env.workload_size("services", name)
            route, queue = parts.route, parts.queue
            variables = {**workload.environment, **_queue_variables(foundation, workload.publishes),
                         **_backend_variables(settings, workload.calls),
                         **({naming.OWN_QUEUE_VARIABLE: queue.queue.queue_url} if queue else {}),
                         **({"PGSSLMODE": "require"} if data and workload.database else {})}
            self.workloads[name] = Service(
                self, _construct_id(name), cluster=self.service.cluster,
                vpc=foundation.network.vpc, subnets=foundation.network.task_subnets, security_group=parts.security_group,
                target_group=route.target_group if route else None, alternate_target_group=route.alternate_target_group if route else None,
                production_rule=route.rule if route else None, repository=parts.registry.repository,
                names=own, log_retention_days=env.log_retention_days,
                architecture=env.architecture, spot=env.spot, awake=env.schedule, ecs_exec=env.ecs_exec, cpu=cpu, memory=memory,
                port=workload.container_port, desired_count=desired_count, max_count=max_count, cpu_target=env.cpu_target,
                stop_timeout=workload.stop_timeout, health_check_grace_seconds=service.health_check_grace_seconds,
                environment=variables, secrets=workload.secrets, container_insights=env.container_insights,
                granted_secrets=self._database_secrets(data) if data and workload.database else None,
                retain_logs=env.deletion_protection or _adopted(names, "log_group", name),
                backlog=Backlog(own.queue, env.backlog_per_task(name)) if queue else None,
                service_connect=self._connect(name, workload, workload.calls),
                container_health_path=workload.health_path if workload.kind == "backend" else None,
            )
            role = self.workloads[name].task_definition.task_role
            self.observability.watch_workload(
                _construct_id(name), name=name, alarm_name=own.unhealthy_alarm, cluster_name=own.cluster,
                target_groups=(route.target_group.target_group_full_name, route.alternate_target_group.target_group_full_name)
                if route else None)
            if queue:
                queue.queue.grant_consume_messages(role)
                self.observability.watch_dead_letters(_construct_id(name), queue=queue.dead_letter_queue, work_queue=queue.queue,
                                                      alarm_name=own.dead_letter_alarm, worker=name, cluster_name=own.cluster)
            _grant_publishes(foundation, workload.publishes, role)
        _grant_publishes(foundation, service.publishes, self.service.task_definition.task_role)
        self.jobs = {}
        for name, job in settings.jobs.items():
            parts, own = foundation.workloads[name], names.workload(name)
            cpu, memory, _count, _most = env.workload_size("jobs", name)
            self.jobs[name] = ScheduledJob(
                self, _construct_id(name), cluster=self.service.cluster, subnets=foundation.network.task_subnets,
                security_group=parts.security_group, repository=parts.registry.repository, names=own,
                log_retention_days=env.log_retention_days, architecture=env.architecture, cpu=cpu, memory=memory,
                command=job.command, environment={**job.environment, **_queue_variables(foundation, job.publishes),
                                                  **({"PGSSLMODE": "require"} if data and job.database else {})},
                secrets=job.secrets, granted_secrets=self._database_secrets(data) if data and job.database else None,
                retain=env.deletion_protection or _adopted(names, "log_group", name), schedule=job.schedule, timezone=job.timezone,
                timeout_minutes=job.timeout_minutes, retries=job.retries)
            self.observability.watch_job(_construct_id(name), state_machine=self.jobs[name].state_machine,
                                         failed_invocations=self.jobs[name].failed_invocations,
                                         alarm_name=own.failed_runs_alarm, job=name)
            _grant_publishes(foundation, job.publishes, self.jobs[name].task_definition.task_role)
        self.add_stack_dependency(foundation)
        CfnOutput(self, Output.CLUSTER_NAME, value=self.service.cluster.cluster_name)
        CfnOutput(self, Output.SERVICE_NAME, value=self.service.service.service_name)


class GlobalStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, settings: Settings) -> None:
        env, names = settings.env, settings.env.names
        super().__init__(scope, names.global_stack, settings=settings, region="us-east-1",
                         description="budget and budget alarm, WAF web ACL for CloudFront where enabled (us-east-1)")
        self.budget = Budget(self, "Budget", name=names.prefix, alarm_name=names.budget_alarm, monthly_usd=env.budget,
                             emails=env.alert_emails)
        self.domain = None
        if env.domain:
            self.domain = Domain(self, "Domain", names=env.certified_names, zone_name=env.zone_name, zone_id=env.hosted_zone_id)
            CfnOutput(self, Output.CERTIFICATE_ARN, value=self.domain.certificate.ref)
            if self.domain.zone_id:
                CfnOutput(self, Output.HOSTED_ZONE_ID, value=self.domain.zone_id)
        if env.waf:
            self.firewall = Firewall(self, "Firewall", name=names.web_acl, rate_limit=env.waf_rate_limit,
                                     log_retention_days=env.log_retention_days, retain_logs=env.deletion_protection)
            CfnOutput(self, Output.WEB_ACL_ARN, value=self.firewall.web_acl.attr_arn)


class EdgeStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, settings: Settings, foundation: FoundationStack, global_stack: GlobalStack) -> None:
        env, names = settings.env, settings.env.names
        super().__init__(scope, names.edge_stack, settings=settings, region=env.region,
                         description="site bucket and CloudFront distribution")
        web_acl_arn = None
        if env.waf:
            web_acl_arn = self.output_of(global_stack, Output.WEB_ACL_ARN, naming.WEB_ACL_PARAMETER,
                                         allowed_pattern=r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/.+$")
        certificate_arn = zone_id = None
        if env.domain:
            certificate_arn = self.output_of(global_stack, Output.CERTIFICATE_ARN, naming.CERTIFICATE_PARAMETER,
                                             allowed_pattern=r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/.+$")
            if env.zone_name:
                zone_id = self.output_of(global_stack, Output.HOSTED_ZONE_ID, naming.HOSTED_ZONE_PARAMETER, allowed_pattern=r"^Z[A-Z0-9]+$")
        headers = SecurityHeaders(self, "SecurityHeaders", name=names.prefix, content_security_policy=settings.site.content_security_policy,
                                  hsts_preload=settings.site.hsts_preload)
        self.edge = Edge(
            self, "Edge",
            security_headers=headers.policy, domain_names=env.domain_names, certificate_arn=certificate_arn, zone_id=zone_id,
            zone_name=env.zone_name,
            bucket_name=names.site_bucket, load_balancer=foundation.load_balancer.load_balancer,
            health_check_path=settings.service.health_check_path, price_class=env.price_class,
            spa_fallback=settings.site.spa_fallback, web_acl_arn=web_acl_arn,
            retain=env.deletion_protection or _adopted(names, "site_bucket"),
            access_logs_bucket=names.logs_bucket, origin_domain=env.origin_domain,
            workload_routes=tuple(route for workload in settings.web_services.values() for route in workload.routes),
            previews=settings.hosts_previews, preview_domain=env.preview_domain,
        )
        self.add_stack_dependency(foundation)
        grant_invalidation(self, "DeployRoleInvalidation", deploy_role_name=names.deploy_role,
                           distribution_arn=f"arn:aws:cloudfront::{env.account}:distribution/{self.edge.distribution.distribution_id}")
        CfnOutput(self, Output.DISTRIBUTION_ID, value=self.edge.distribution.distribution_id)
        CfnOutput(self, Output.DISTRIBUTION_DOMAIN, value=self.edge.distribution.distribution_domain_name)
        CfnOutput(self, Output.SITE_BUCKET, value=self.edge.bucket.bucket_name)


class EdgeAlarmsStack(_EnvironmentStack):
    """CloudFront publishes its metrics in us-east-1 only, so its alarms live there, after the edge stack."""

    def __init__(self, scope: Construct, *, settings: Settings, edge: EdgeStack, global_stack: GlobalStack) -> None:
        names = settings.env.names
        super().__init__(scope, names.edge_alarms_stack, settings=settings, region="us-east-1",
                         description="CloudFront alarms and access logs (us-east-1)")
        distribution = self.output_of(edge, Output.DISTRIBUTION_ID, naming.DISTRIBUTION_PARAMETER, allowed_pattern=r"^[A-Z0-9]+$")
        self.alarms = EdgeAlarms(self, "EdgeAlarms", prefix=names.prefix, distribution_id=distribution,
                                 topic=global_stack.budget.topic, logical_id="CloudFront5xxA538BB74")
        if settings.env.edge_logs:
            self.access_logs = EdgeAccessLogs(self, "AccessLogs", prefix=names.prefix, log_group_name=names.edge_log_group,
                                              distribution_id=distribution, retention_days=settings.env.log_retention_days,
                                              retain=settings.env.deletion_protection)
        self.add_stack_dependency(global_stack)


@dataclass(frozen=True)
class WorkloadParts:
    """What the foundation holds for a workload beside [service]."""

    registry: Registry
    image_slot: ImageSlot
    route: Route | None  # a web service's
    queue: WorkQueue | None  # a worker's
    security_group: ec2.ISecurityGroup  # its tasks' own


def _queue_variables(foundation: FoundationStack, publishes: list[str]) -> dict[str, str]:
    """Where a publisher finds each queue it sends to, and each topic it publishes to."""
    return {**{naming.queue_variable(name): foundation.workloads[name].queue.queue.queue_url
               for name in publishes if name not in foundation.topics},
            **{naming.topic_variable(name): foundation.topics[name].topic.topic_arn for name in publishes if name in foundation.topics}}


def _backend_variables(settings: Settings, calls: list[str]) -> dict[str, str]:
    """Where a caller finds each backend it calls: its Service Connect name and port."""
    return {naming.service_variable(backend): f"http://{backend}:{settings.workloads[backend].container_port}" for backend in calls}


def _grant_publishes(foundation: FoundationStack, publishes: list[str], role: iam.IRole) -> None:
    """Send, and nothing else, on exactly the queues and topics a workload publishes to."""
    for name in publishes:
        if name in foundation.topics:
            foundation.topics[name].topic.grant_publish(role)
        else:
            foundation.workloads[name].queue.queue.grant_send_messages(role)


def _repository_arn(env: Environment, repository: str) -> str:
    """A repository of another environment (the one promote copies from), by its name."""
    return f"arn:aws:ecr:{env.region}:{env.account}:repository/{repository}"


def _construct_id(workload: str) -> str:
    """The construct id of a workload's resources: its name in CamelCase ("admin-api" -> "AdminApi"). [service] is
    "Web", the id it always had, so a workload named web ([services.web]) keeps a deployed app's logical ids."""
    return "".join(part.capitalize() for part in workload.split("-"))


def build_environment(scope: Construct, *, settings: Settings) -> list[_EnvironmentStack]:
    """All stacks of one environment, in deploy order."""
    global_stack = GlobalStack(scope, settings=settings)
    foundation = FoundationStack(scope, settings=settings, global_stack=global_stack)
    data = DataStack(scope, settings=settings, foundation=foundation) if settings.database else None
    service = ServiceStack(scope, settings=settings, foundation=foundation, data=data)
    edge = EdgeStack(scope, settings=settings, foundation=foundation, global_stack=global_stack)
    edge_alarms = EdgeAlarmsStack(scope, settings=settings, edge=edge, global_stack=global_stack)
    return [foundation, global_stack, *([data] if data else []), service, edge, edge_alarms]


def _adopted(names: naming.Names, kind: str, workload: str = naming.PRIMARY_SERVICE) -> bool:
    return names.adopted_name(kind, workload) is not None
