"""VPC over two AZs without a NAT gateway.

Tasks sit in public subnets with public IPs (they pull images and write logs
over the internet gateway, which costs nothing per hour, unlike a NAT
gateway); the load balancer sits in isolated subnets that have no route to
the internet at all, and only CloudFront's VPC origin reaches it. With a
database, a third pair of isolated subnets holds it: no route out, no route in
from the internet, and its security group admits only the tasks.

In an existing VPC ([environments.<env>.network]) the same roles fall on its subnets by id: the tasks in its public
subnets, the load balancer and the database in its private ones.
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from shipyard.config.environment import ExistingNetwork, ExistingSubnet

PUBLIC = "tasks"
ISOLATED = "loadbalancer"
DATABASE = "database"


def selected(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> ec2.SelectedSubnets:
    """The subnets of a selection, by group name (a VPC of its own) or listed (an existing VPC)."""
    return vpc.select_subnets(subnet_group_name=selection.subnet_group_name, subnets=selection.subnets)


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, cidr: str = "10.0.0.0/16", database: bool = False,
                 existing: ExistingNetwork | None = None) -> None:
        super().__init__(scope, id)
        if existing is not None:
            self._in_existing(existing, database=database)
            return
        self.vpc: ec2.IVpc = ec2.Vpc(
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

    def _in_existing(self, existing: ExistingNetwork, *, database: bool) -> None:
        """Subnets as the configuration describes them: the tasks in the public ones, the load balancer and the
        database in the private ones."""
        zones = sorted({s.zone for s in [*existing.public_subnets, *existing.private_subnets]})
        self.vpc = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=existing.vpc_id, availability_zones=zones)

        def chosen(kind: str, subnets: list[ExistingSubnet]) -> ec2.SubnetSelection:
            return ec2.SubnetSelection(subnets=[
                ec2.Subnet.from_subnet_attributes(self, f"{kind}{i}", subnet_id=s.id, availability_zone=s.zone, ipv4_cidr_block=s.cidr)
                for i, s in enumerate(subnets)])

        self.task_subnets = chosen("Public", existing.public_subnets)
        self.load_balancer_subnets = chosen("Private", existing.private_subnets)
        self.database_subnets = self.load_balancer_subnets if database else None

    def workload_security_group(self, id: str, *, description: str) -> ec2.SecurityGroup:
        """A workload's own group: no ingress (the load balancer's rule to a web service, and each declared caller's to
        a backend, are added by who admits them); out, HTTPS only, which reaches every AWS API it uses (SQS, ECR,
        CloudWatch Logs, Secrets Manager) over the internet gateway."""
        group = ec2.SecurityGroup(self, id, vpc=self.vpc, allow_all_outbound=False, description=description)
        group.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and ECR")
        return group
