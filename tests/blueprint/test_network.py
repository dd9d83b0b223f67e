import pytest
from aws_cdk.assertions import Template
from pydantic import ValidationError

from shipyard.blueprint.access_logs import AccessLogs
from shipyard.blueprint.load_balancer import LoadBalancer
from shipyard.blueprint.network import Network
from shipyard.config.environment import ExistingNetwork

from .helpers import bare_stack, only


def _template() -> Template:
    stack = bare_stack()
    Network(stack, "N")
    return Template.from_stack(stack)


def test_no_nat_gateway_two_azs():
    template = _template()
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::EIP", 0)
    template.resource_count_is("AWS::EC2::Subnet", 4)
    template.resource_count_is("AWS::EC2::InternetGateway", 1)


def test_isolated_subnets_have_no_route_to_the_internet():
    template = _template()
    subnets = template.find_resources("AWS::EC2::Subnet")
    isolated = {k for k, v in subnets.items()
                if {"Key": "aws-cdk:subnet-type", "Value": "Isolated"} in v["Properties"]["Tags"]}
    assert len(isolated) == 2
    associations = template.find_resources("AWS::EC2::SubnetRouteTableAssociation").values()
    isolated_tables = {a["Properties"]["RouteTableId"]["Ref"] for a in associations
                       if a["Properties"]["SubnetId"]["Ref"] in isolated}
    routed_tables = {r["Properties"]["RouteTableId"]["Ref"] for r in template.find_resources("AWS::EC2::Route").values()}
    assert len(isolated_tables) == 2
    assert not isolated_tables & routed_tables
    assert len(routed_tables) == 2  # the two public subnets route to the internet gateway


def test_no_custom_resource_lambda():
    template = _template()
    template.resource_count_is("AWS::Lambda::Function", 0)
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 0)


EXISTING = ExistingNetwork(vpc_id="vpc-0a1b2c3d4e5f60718", public_subnets=[
    {"id": "subnet-0a1b2c3d4e5f60001", "zone": "eu-west-1a", "cidr": "10.20.0.0/24"},
    {"id": "subnet-0a1b2c3d4e5f60002", "zone": "eu-west-1b", "cidr": "10.20.1.0/24"}], private_subnets=[
    {"id": "subnet-0a1b2c3d4e5f60003", "zone": "eu-west-1a", "cidr": "10.20.2.0/24"},
    {"id": "subnet-0a1b2c3d4e5f60004", "zone": "eu-west-1b", "cidr": "10.20.3.0/24"}])


def test_in_an_existing_vpc_nothing_of_the_network_is_made_and_each_part_takes_its_subnets():
    stack = bare_stack()
    network = Network(stack, "N", database=True, existing=EXISTING)
    lb = LoadBalancer(stack, "L", vpc=network.vpc, subnets=network.load_balancer_subnets, name="webapp-staging",
                      target_port=8000, health_check_path="/healthz", deletion_protection=False)
    AccessLogs(stack, "A", bucket_name="logs", site_bucket_name="site", retention_days=30, retain=False).log_rejected_traffic(network.vpc)
    template = Template.from_stack(stack)
    for kind in ("AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::EC2::InternetGateway", "AWS::EC2::Route", "AWS::EC2::RouteTable"):
        template.resource_count_is(kind, 0)
    assert only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Subnets"] == ["subnet-0a1b2c3d4e5f60003", "subnet-0a1b2c3d4e5f60004"]
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    ingress = groups[stack.get_logical_id(lb.security_group.node.default_child)]["Properties"]["SecurityGroupIngress"]
    assert sorted(rule["CidrIp"] for rule in ingress) == ["10.20.2.0/24", "10.20.3.0/24"]  # the VPC origin's subnets only
    flow_log = only(template, "AWS::EC2::FlowLog")
    assert (flow_log["ResourceId"], flow_log["TrafficType"]) == ("vpc-0a1b2c3d4e5f60718", "REJECT")
    assert stack.resolve(network.vpc.select_subnets(subnets=network.task_subnets.subnets).subnet_ids) == [
        "subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert network.database_subnets is network.load_balancer_subnets


@pytest.mark.parametrize(("change", "words"), [
    ({"vpc_id": "vpc-xyz"}, "is not a VPC id"),
    ({"public_subnets": EXISTING.model_dump()["public_subnets"][:1]}, "two availability zones or more"),
    ({"private_subnets": [*EXISTING.model_dump()["private_subnets"][:1], EXISTING.model_dump()["public_subnets"][1]]},
     "listed as public and private"),
    ({"private_subnets": [{"id": "subnet-0a1b2c3d4e5f60003", "zone": "eu-west-1a", "cidr": "10.20.2.0/33"},
                          {"id": "subnet-0a1b2c3d4e5f60004", "zone": "eu-west-1b", "cidr": "10.20.3.0/24"}]}, "not an IPv4 range"),
])
def test_an_existing_network_is_checked(change, words):
    with pytest.raises(ValidationError, match=words):
        ExistingNetwork(**{**EXISTING.model_dump(), **change})
