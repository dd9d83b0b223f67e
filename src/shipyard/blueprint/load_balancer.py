"""Internal Application Load Balancer that only CloudFront's VPC origin reaches.

The load balancer has no public address. Its security group admits its
listener's port only from the isolated subnets it lives in, which is where
CloudFront places the VPC origin's network interfaces; nothing else runs there.
With a certificate (an environment with a domain) the listener is HTTPS on 443
with TLS 1.2 at least; without one it is HTTP on 80 (docs/decisions.md §27).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from shipyard import naming
from shipyard.blueprint.network import selected


@dataclass(frozen=True)
class Route:
    """A web workload's way in: its blue and green target groups and the listener rule that weighs them."""

    target_group: elbv2.ApplicationTargetGroup
    alternate_target_group: elbv2.ApplicationTargetGroup
    rule: elbv2.ApplicationListenerRule


HTTP_PORT = 80
HTTPS_PORT = 443
# TLS 1.3 (with the hybrid post-quantum key exchange) and 1.2 with the restricted forward-secret AES-GCM ciphers;
# CloudFront offers origins TLS 1.2.
TLS_POLICY = elbv2.SslPolicy.TLS13_12_RES_PQ

# Target group numbers chosen for fast, safe rollouts:
# - ECS waits for deregistration before stopping an old task; the service
#   answers in well under a second, so 15 s drains in-flight requests while
#   keeping each rollout wave short (the AWS default of 300 s dominates
#   rollout time).
DEREGISTRATION_DELAY = Duration.seconds(15)
# - A new task is healthy after HEALTHY_THRESHOLD x INTERVAL = 10 s instead of
#   the default 5 x 30 s = 150 s.
HEALTH_CHECK_INTERVAL = Duration.seconds(5)
HEALTHY_THRESHOLD = 2
# - Two misses in a row (10 s) mark a target unhealthy, fast enough for the
#   circuit breaker, slow enough to ride out one GC pause.
UNHEALTHY_THRESHOLD = 2
HEALTH_CHECK_TIMEOUT = Duration.seconds(4)


class LoadBalancer(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        name: str,
        target_port: int,
        health_check_path: str,
        deletion_protection: bool,
        access_logs: s3.IBucket | None = None,
        certificate_arn: str | None = None,
        primary_rule_priority: int = naming.PRIMARY_RULE_PRIORITY,
        primary_paths: tuple[str, ...] = ("/*",),
    ) -> None:
        """primary_paths: what [service]'s rule matches; everything CloudFront sends unless previews' rules must be
        reachable after it (then exactly the paths the distribution sends [service])."""
        super().__init__(scope, id)
        self.vpc = vpc
        port = HTTPS_PORT if certificate_arn else HTTP_PORT
        self.security_group = ec2.SecurityGroup(
            self, "SecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{name} load balancer: {'HTTPS' if certificate_arn else 'HTTP'} from the CloudFront VPC origin only",
        )
        for subnet in selected(vpc, subnets).subnets:
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(subnet.ipv4_cidr_block), ec2.Port.tcp(port),
                "CloudFront VPC origin interfaces in this isolated subnet",
            )
        # The tasks' group lives here, beside the load balancer's, so the rules
        # between them are one stack's business and the service stack only uses it.
        self.target_security_group = ec2.SecurityGroup(
            self, "TargetSecurityGroup", vpc=vpc, allow_all_outbound=False,
            description=f"{name} tasks: HTTP from the load balancer only; outbound HTTPS for image pulls, logs and secrets",
        )
        # Everything a task reaches is an AWS API or registry on 443 (ECR, its S3 layers, CloudWatch Logs, Secrets
        # Manager, SSM). DNS needs no rule: security groups do not filter traffic to the Amazon DNS server (VPC user
        # guide, "Security group rules"). A service that calls other APIs on other ports adds them here.
        self.target_security_group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and ECR")
        self.target_security_group.add_ingress_rule(
            self.security_group, ec2.Port.tcp(target_port), "HTTP from the load balancer",
        )
        self.security_group.add_egress_rule(
            self.target_security_group, ec2.Port.tcp(target_port), "HTTP to the service tasks",
        )
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self, "LoadBalancer",
            load_balancer_name=name,
            vpc=vpc,
            vpc_subnets=subnets,
            internet_facing=False,
            security_group=self.security_group,
            drop_invalid_header_fields=True,
            deletion_protection=deletion_protection,
        )
        if access_logs is not None:
            self.load_balancer.log_access_logs(access_logs, prefix="alb")
        # Two target groups for ECS's blue/green deployments (docs/decisions.md §18): the running revision is
        # behind one, the next starts behind the other, and the production rule's weights move traffic between them.
        self.target_group = self._target_group("TargetGroup", vpc, target_port, health_check_path)
        self.alternate_target_group = self._target_group("AlternateTargetGroup", vpc, target_port, health_check_path)
        # One listener whatever its protocol, under its first id: the production rule and ECS's blue/green settings
        # name it, and a listener's port and protocol change in place (no replacement) when a domain is added.
        self.listener = self.load_balancer.add_listener(
            "Http", port=port, open=False,
            protocol=elbv2.ApplicationProtocol.HTTPS if certificate_arn else elbv2.ApplicationProtocol.HTTP,
            certificates=[elbv2.ListenerCertificate.from_arn(certificate_arn)] if certificate_arn else None,
            ssl_policy=TLS_POLICY if certificate_arn else None,
            default_action=elbv2.ListenerAction.fixed_response(404, content_type="text/plain", message_body="not found"),
        )
        self.production_rule = self._rule("ProductionRule", list(primary_paths), primary_rule_priority, self.target_group, self.alternate_target_group)

    def add_route(self, id: str, *, target_port: int, health_check_path: str, routes: list[str], priority: int,
                  security_group: ec2.ISecurityGroup) -> Route:
        """A web workload's own target groups (blue and green) and listener rule for its path patterns, and the
        security group rules that let the load balancer reach its tasks' port (in their own group)."""
        blue = self._target_group(f"{id}TargetGroup", self.vpc, target_port, health_check_path)
        green = self._target_group(f"{id}AlternateTargetGroup", self.vpc, target_port, health_check_path)
        security_group.add_ingress_rule(self.security_group, ec2.Port.tcp(target_port), "HTTP from the load balancer")
        self.security_group.add_egress_rule(security_group, ec2.Port.tcp(target_port), f"HTTP to the {id} tasks")
        return Route(blue, green, self._rule(f"{id}Rule", routes, priority, blue, green))

    def _rule(self, id: str, paths: list[str], priority: int, blue: elbv2.ApplicationTargetGroup,
              green: elbv2.ApplicationTargetGroup) -> elbv2.ApplicationListenerRule:
        # Blue takes every request until ECS's blue/green deployment moves the weights (docs/decisions.md §18).
        return elbv2.ApplicationListenerRule(
            self, id, listener=self.listener, priority=priority, conditions=[elbv2.ListenerCondition.path_patterns(paths)],
            action=elbv2.ListenerAction.weighted_forward([elbv2.WeightedTargetGroup(target_group=blue, weight=100),
                                                          elbv2.WeightedTargetGroup(target_group=green, weight=0)]))

    def _target_group(self, id: str, vpc: ec2.IVpc, port: int, health_check_path: str) -> elbv2.ApplicationTargetGroup:
        return elbv2.ApplicationTargetGroup(
            self, id,
            vpc=vpc,
            port=port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=elbv2.HealthCheck(
                path=health_check_path,
                interval=HEALTH_CHECK_INTERVAL,
                timeout=HEALTH_CHECK_TIMEOUT,
                healthy_threshold_count=HEALTHY_THRESHOLD,
                unhealthy_threshold_count=UNHEALTHY_THRESHOLD,
                healthy_http_codes="200",
            ),
        )
