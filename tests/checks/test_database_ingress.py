from shipyard.checks.rules.database_ingress import RULE

from .helpers import violations


def _database(*ingress) -> dict:
    return {
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"VPCSecurityGroups": [{"Fn::GetAtt": ["DbGroup", "GroupId"]}]}},
        "DbGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"SecurityGroupIngress": list(ingress)}},
    }


def test_ingress_from_the_tasks_group_passes():
    assert violations(RULE, _database({"SourceSecurityGroupId": {"Fn::ImportValue": "tasks"}, "FromPort": 5432})) == []


def test_an_address_range_or_prefix_list_fails():
    assert "10.0.0.0/8" in violations(RULE, _database({"CidrIp": "10.0.0.0/8", "FromPort": 5432}))[0].message
    resources = _database()
    resources["Open"] = {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Fn::GetAtt": ["DbGroup", "GroupId"]}, "SourcePrefixListId": "pl-1"}}
    assert "pl-1" in violations(RULE, resources)[0].message
