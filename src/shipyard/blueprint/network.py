"""VPC over two AZs without a NAT gateway.

Tasks sit in public subnets with public IPs (they pull images and write logs
over the internet gateway, which costs nothing per hour, unlike a NAT
gateway); the load balancer sits in isolated subnets that have no route to
the internet at all, and only CloudFront's VPC origin reaches it. With a
database, a third pair of isolated subnets holds it: no route out, no route in
from the internet, and its security group admits only the tasks.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

PUBLIC = "tasks"
ISOLATED = "loadbalancer"
DATABASE = "database"


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, cidr: str = "10.0.0.0/16", database: bool = False) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24,
                                        map_public_ip_on_launch=False),
                ec2.SubnetConfiguration(name=ISOLATED, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
                *([ec2.SubnetConfiguration(name=DATABASE, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)]
                  if database else []),
            ],
            # The CDK implements this with a Lambda-backed custom resource; the
            # default security group is unused, so it stays as AWS made it.
            restrict_default_security_group=False,
        )
        self.task_subnets = ec2.SubnetSelection(subnet_group_name=PUBLIC)
        self.load_balancer_subnets = ec2.SubnetSelection(subnet_group_name=ISOLATED)
        self.database_subnets = ec2.SubnetSelection(subnet_group_name=DATABASE) if database else None

    def workload_security_group(self, id: str, *, description: str) -> ec2.SecurityGroup:
        """A workload's own group: no ingress (the load balancer's rule to a web service, and each declared caller's to
        a backend, are added by who admits them); out, HTTPS only, which reaches every AWS API it uses (SQS, ECR,
        CloudWatch Logs, Secrets Manager) over the internet gateway."""
        group = ec2.SecurityGroup(self, id, vpc=self.vpc, allow_all_outbound=False, description=description)
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and ECR")
        return group
