from shipyard.checks.rules.task_ingress import RULE

from .helpers import violations


def _service(*ingress) -> dict:
    return {
        "S": {"Type": "AWS::ECS::Service", "Properties": {"NetworkConfiguration": {"AwsvpcConfiguration": {
            "SecurityGroups": [{"Fn::GetAtt": ["Tasks", "GroupId"]}]}}}},
        "Tasks": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": list(ingress)}},
        "Lb": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": [{"CidrIp": "10.0.2.0/24"}]}},
    }


def test_ingress_only_from_the_load_balancer_group_passes():
    resources = _service()
    resources["FromLb"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetAtt": ["Tasks", "GroupId"]}, "SourceSecurityGroupId": {"Fn::GetAtt": ["Lb", "GroupId"]}}}
    assert violations(RULE, resources) == []


def test_an_address_range_or_prefix_list_on_the_tasks_fails():
    assert "0.0.0.0/0" in violations(RULE, _service({"CidrIp": "0.0.0.0/0", "FromPort": 8000}))[0].message
    resources = _service()
    resources["Open"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetAtt": ["Tasks", "GroupId"]}, "SourcePrefixListId": "pl-123"}}
    assert "pl-123" in violations(RULE, resources)[0].message
