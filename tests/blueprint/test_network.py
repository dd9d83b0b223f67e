from aws_cdk.assertions import Template

from shipyard.blueprint.network import Network

from .helpers import bare_stack


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
