"""The stacks of one environment; they only compose constructs.

  foundation  network, registry, load balancer, identity, image parameter
  service     cluster, task definition, service, autoscaling   (after foundation)
  edge        site bucket, CloudFront                          (after foundation)
  global      budget, budget alarm, WAF web ACL (us-east-1)    (web ACL only where WAF is on)
  edge-alarms CloudFront alarms (us-east-1)                    (after edge)

service and edge depend only on foundation, so a release (a service stack
update) never waits on CloudFront, and the two deploy side by side.
"""

from __future__ import annotations

from aws_cdk import BootstraplessSynthesizer, CfnOutput, CfnParameter, Duration, Fn, Stack, Tags
from aws_cdk import Environment as CdkEnvironment
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shipyard import naming
from shipyard.blueprint.access_logs import AccessLogs
from shipyard.blueprint.budget import Budget
from shipyard.blueprint.edge import Edge
from shipyard.blueprint.firewall import Firewall
from shipyard.blueprint.identity import Identity
from shipyard.blueprint.load_balancer import LoadBalancer
from shipyard.blueprint.network import Network
from shipyard.blueprint.observability import Observability
from shipyard.blueprint.registry import Registry
from shipyard.blueprint.service import Service
from shipyard.config import Config, Environment


class _EnvironmentStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: Config, env: Environment, region: str,
                 description: str) -> None:
        super().__init__(
            scope, id,
            stack_name=id,
            env=CdkEnvironment(account=env.account, region=region),
            description=f"shipyard {config.app.name} {env.name}: {description}",
            termination_protection=env.deletion_protection,
            # shipyard deploys templates itself and the blueprint has no file
            # assets, so no CDK bootstrap stack is needed in the accounts.
            synthesizer=BootstraplessSynthesizer(),
        )
        Tags.of(self).add("shipyard:app", config.app.name)
        Tags.of(self).add("shipyard:environment", env.name)

    @property
    def availability_zones(self) -> list[str]:
        # Resolved by CloudFormation in the target account, so synth needs no
        # AWS lookup and the template works in every region.
        return [Fn.select(0, Fn.get_azs()), Fn.select(1, Fn.get_azs())]


class FoundationStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, config: Config, env: Environment) -> None:
        names = env.names
        super().__init__(scope, names.foundation_stack, config=config, env=env, region=env.region,
                         description="network, registry, load balancer, deploy identity")
        self.network = Network(self, "Network")
        self.access_logs = AccessLogs(self, "AccessLogs", bucket_name=names.logs_bucket, site_bucket_name=names.site_bucket,
                                      retention_days=env.log_retention_days, retain=env.deletion_protection)
        self.access_logs.log_rejected_traffic(self.network.vpc)
        order = list(config.environments)
        position = order.index(env.name)
        # Environments promote in the order shipyard.toml lists them: each copies from the one before.
        after = config.environments[order[position + 1]] if position + 1 < len(order) else None
        before = config.environments[order[position - 1]] if position > 0 else None
        self.registry = Registry(self, "Registry", repository_name=names.repository,
                                 keep_images=env.image_retention_count, retain=env.deletion_protection,
                                 pull_accounts=(after.account,) if after and after.account != env.account else ())
        self.load_balancer = LoadBalancer(
            self, "LoadBalancer", vpc=self.network.vpc, subnets=self.network.load_balancer_subnets,
            name=names.load_balancer, target_port=config.service.port,
            health_check_path=config.service.health_check_path, deletion_protection=env.deletion_protection,
            access_logs=self.access_logs.bucket,
        )
        # `shipyard release` writes the image here; CloudFormation never rewrites
        # the value because this template's value never changes.
        self.image_parameter = ssm.StringParameter(
            self, "ImageParameter", parameter_name=names.image_parameter, string_value=naming.NO_IMAGE,
            description=f"Released image of {config.app.name} {env.name} (written by shipyard release)",
        )
        self.identity = Identity(
            self, "Identity",
            github_repository=config.app.repository, environment=env.name, stack_prefix=names.prefix,
            repository_arn=self.registry.repository.repository_arn, image_parameter=names.image_parameter,
            release_history_parameter=names.release_history_parameter, site_bucket=names.site_bucket,
            log_group=names.log_group, role_name=names.deploy_role, existing_provider_arn=env.oidc_provider_arn,
            source_repository_arn=(f"arn:aws:ecr:{before.region}:{before.account}:repository/{before.names.repository}"
                                   if before else None),
        )
        CfnOutput(self, "RepositoryUri", value=self.registry.repository.repository_uri)
        CfnOutput(self, "DeployRoleArn", value=self.identity.deploy_role.role_arn)
        CfnOutput(self, "LoadBalancerDns", value=self.load_balancer.load_balancer.load_balancer_dns_name)


class ServiceStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, config: Config, env: Environment, foundation: FoundationStack) -> None:
        names = env.names
        super().__init__(scope, names.service_stack, config=config, env=env, region=env.region,
                         description="ECS Fargate service")
        service = config.service
        self.service = Service(
            self, "Web",
            vpc=foundation.network.vpc, subnets=foundation.network.task_subnets,
            security_group=foundation.load_balancer.target_security_group,
            target_group=foundation.load_balancer.target_group,
            repository=foundation.registry.repository,
            cluster_name=names.cluster, service_name=names.service, image_parameter=names.image_parameter,
            log_group_name=names.log_group, log_retention_days=env.log_retention_days,
            architecture=env.architecture, spot=env.spot, cpu=env.cpu, memory=env.memory, port=service.port,
            desired_count=env.desired_count, max_count=env.max_count, cpu_target=env.cpu_target,
            stop_timeout=service.stop_timeout, health_check_grace_seconds=service.health_check_grace_seconds,
            environment=service.environment, secrets=service.secrets,
            container_insights=env.container_insights, retain_logs=env.deletion_protection,
        )
        lb = foundation.load_balancer
        self.observability = Observability(
            self, "Observability", prefix=names.prefix, load_balancer=lb.load_balancer.load_balancer_full_name,
            target_group=lb.target_group.target_group_full_name, cluster_name=names.cluster, service_name=names.service,
            running_target=self.service.running_target, slo_target=env.slo_target, latency_p95_ms=env.latency_p95_ms,
            emails=env.alert_emails, web_acl_name=names.web_acl if env.waf else None,
        )
        self.service.service.enable_deployment_alarms(
            [self.observability.five_xx.alarm_name], behavior=ecs.AlarmBehavior.ROLLBACK_ON_ALARM)
        self.add_stack_dependency(foundation)
        CfnOutput(self, "ClusterName", value=self.service.cluster.cluster_name)
        CfnOutput(self, "ServiceName", value=self.service.service.service_name)


class GlobalStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, config: Config, env: Environment) -> None:
        names = env.names
        super().__init__(scope, names.global_stack, config=config, env=env, region="us-east-1",
                         description="budget and budget alarm, WAF web ACL for CloudFront where enabled (us-east-1)")
        self.budget = Budget(self, "Budget", name=names.prefix, alarm_name=names.budget_alarm, monthly_usd=env.budget,
                             emails=env.alert_emails)
        if env.waf:
            self.firewall = Firewall(self, "Firewall", name=names.web_acl, rate_limit=env.waf_rate_limit)
            CfnOutput(self, naming.WEB_ACL_OUTPUT, value=self.firewall.web_acl.attr_arn)


class EdgeStack(_EnvironmentStack):
    def __init__(self, scope: Construct, *, config: Config, env: Environment, foundation: FoundationStack,
                 global_stack: GlobalStack) -> None:
        names = env.names
        super().__init__(scope, names.edge_stack, config=config, env=env, region=env.region,
                         description="site bucket and CloudFront distribution")
        web_acl_arn = None
        if env.waf:
            # Filled by the deploy engine from the global stack's output.
            web_acl_arn = CfnParameter(
                self, naming.WEB_ACL_PARAMETER, type="String",
                description=f"ARN of the CloudFront web ACL ({names.global_stack} output {naming.WEB_ACL_OUTPUT})",
                allowed_pattern=r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/.+$",
            ).value_as_string
            self.add_stack_dependency(global_stack)
        self.edge = Edge(
            self, "Edge",
            bucket_name=names.site_bucket, load_balancer=foundation.load_balancer.load_balancer,
            health_check_path=config.service.health_check_path, price_class=env.price_class,
            spa_fallback=config.site.spa_fallback, web_acl_arn=web_acl_arn, retain=env.deletion_protection,
            access_logs_bucket=names.logs_bucket,
        )
        self.add_stack_dependency(foundation)
        CfnOutput(self, "DistributionId", value=self.edge.distribution.distribution_id)
        CfnOutput(self, "DistributionDomain", value=self.edge.distribution.distribution_domain_name)
        CfnOutput(self, "SiteBucket", value=self.edge.bucket.bucket_name)


class EdgeAlarmsStack(_EnvironmentStack):
    """CloudFront publishes its metrics in us-east-1 only, so its alarms live there, after the edge stack."""

    def __init__(self, scope: Construct, *, config: Config, env: Environment, edge: EdgeStack, global_stack: GlobalStack) -> None:
        names = env.names
        super().__init__(scope, names.edge_alarms_stack, config=config, env=env, region="us-east-1",
                         description="CloudFront alarms (us-east-1)")
        distribution = CfnParameter(
            self, naming.DISTRIBUTION_PARAMETER, type="String", allowed_pattern=r"^[A-Z0-9]+$",
            description=f"CloudFront distribution id ({names.edge_stack} output {naming.DISTRIBUTION_OUTPUT})",
        ).value_as_string
        alarm = cw.Alarm(
            self, "CloudFront5xx", alarm_name=f"{names.prefix}-cloudfront-5xx",
            metric=cw.Metric(namespace="AWS/CloudFront", metric_name="5xxErrorRate", statistic="Average",
                             dimensions_map={"DistributionId": distribution, "Region": "Global"}, period=Duration.minutes(5)),
            threshold=2, evaluation_periods=2, datapoints_to_alarm=2,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD, treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description="More than 2% of viewer requests got a 5xx at the edge for 10 minutes")
        alarm.add_alarm_action(cw_actions.SnsAction(global_stack.budget.topic))
        self.add_stack_dependency(edge)
        self.add_stack_dependency(global_stack)


def build_environment(scope: Construct, *, config: Config, env: Environment) -> list[Stack]:
    """All stacks of one environment, in deploy order."""
    foundation = FoundationStack(scope, config=config, env=env)
    global_stack = GlobalStack(scope, config=config, env=env)
    service = ServiceStack(scope, config=config, env=env, foundation=foundation)
    edge = EdgeStack(scope, config=config, env=env, foundation=foundation, global_stack=global_stack)
    edge_alarms = EdgeAlarmsStack(scope, config=config, env=env, edge=edge, global_stack=global_stack)
    return [foundation, global_stack, service, edge, edge_alarms]
