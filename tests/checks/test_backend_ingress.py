"""SY-E203 on a template that holds a backend beside its group (the blueprint's backends are checked live)."""

from shipyard.checks.rules.backend_ingress import RULE

from .helpers import violations


def _backend(**ingress) -> dict:
    return {
        "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "catalog tasks"}},
        "Ingress": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["Group", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 8001, "ToPort": 8001, **ingress}},
        "Service": {"Type": "AWS::ECS::Service", "Properties": {
            "ServiceConnectConfiguration": {"Enabled": True, "Services": [{"PortName": "http", "DiscoveryName": "catalog"}]},
            "NetworkConfiguration": {"AwsvpcConfiguration": {"SecurityGroups": [{"Fn::GetAtt": ["Group", "GroupId"]}]}}}},
    }


def test_a_callers_group_passes():
    assert violations(RULE, _backend(SourceSecurityGroupId="sg-0caller")) == []


def test_an_address_range_fails():
    [found] = violations(RULE, _backend(CidrIp="0.0.0.0/0"))
    assert found.resource == "Group" and "admits 0.0.0.0/0" in found.message


def test_a_service_without_service_connect_names_is_no_backend():
    resources = _backend(CidrIp="10.0.0.0/8")
    del resources["Service"]["Properties"]["ServiceConnectConfiguration"]["Services"]
    assert violations(RULE, resources) == []
