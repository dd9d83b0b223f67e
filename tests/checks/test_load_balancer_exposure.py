from shipyard.checks.rules.load_balancer_exposure import RULE

from .helpers import violations


def _stack(scheme: str, ingress: list[dict]) -> dict:
    return {"Sg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": ingress}},
            "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                   "Properties": {"Scheme": scheme, "SecurityGroups": [{"Fn::GetAtt": ["Sg", "GroupId"]}]}}}


def test_internal_from_subnets_and_prefix_list_pass():
    assert violations(RULE, _stack("internal", [{"CidrIp": "10.0.2.0/24", "FromPort": 80, "ToPort": 80}])) == []
    assert violations(RULE, _stack("internet-facing", [{"SourcePrefixListId": "pl-4fa04526", "FromPort": 443}])) == []


def test_open_or_internet_facing_fails():
    assert "whole internet" in violations(RULE, _stack("internal", [{"CidrIp": "0.0.0.0/0"}]))[0].message
    assert "internet-facing" in violations(RULE, _stack("internet-facing", [{"CidrIp": "203.0.113.0/24"}]))[0].message
