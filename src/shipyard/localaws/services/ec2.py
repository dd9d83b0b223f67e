"""EC2 types: SecurityGroupEgress, which moto skips; SubnetRouteTableAssociation,
whose moto model records the association where DescribeRouteTables never
shows it; RouteTable, whose moto model is never deleted (so its VPC cannot be);
FlowLog, whose moto model takes an S3 destination's key prefix for part of the
bucket name and fails."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs as MotoFlowLogs
from moto.ec2.models.route_tables import RouteTable as MotoRouteTable

from shipyard.localaws.services._base import Delegate, Handler, properties


class SecurityGroupEgress(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupEgress"

    def __init__(self, rule: dict[str, Any]) -> None:
        self.physical_id = f"sgr-{uuid.uuid4().hex[:17]}"
        self.rule = rule
        self.attributes: dict[str, Any] = {"Id": self.physical_id}

    @staticmethod
    def _arguments(props: dict[str, Any]) -> dict[str, Any]:
        destination = props.get("DestinationSecurityGroupId")
        return dict(
            group_name_or_id=props["GroupId"],
            ip_protocol=str(props["IpProtocol"]),
            from_port=props.get("FromPort", -1),
            to_port=props.get("ToPort", -1),
            ip_ranges=[{"CidrIp": props["CidrIp"], "Description": props.get("Description", "")}] if "CidrIp" in props else [],
            source_groups=[{"GroupId": destination, "Description": props.get("Description", "")}] if destination else None,
        )

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        arguments = cls._arguments(properties(cloudformation_json))
        ec2_backends[account_id][region_name].authorize_security_group_egress(**arguments)
        return cls(arguments)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        # The rule goes with its group when the group is deleted first.
        if backend.get_security_group_by_name_or_id(self.rule["group_name_or_id"]) is not None:
            backend.revoke_security_group_egress(**self.rule)


class SubnetRouteTableAssociation(Handler, CloudFormationModel):
    ATTRIBUTES = ("Id",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SubnetRouteTableAssociation"

    def __init__(self, association_id: str) -> None:
        self.physical_id = association_id
        self.attributes = {"Id": association_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        association_id = ec2_backends[account_id][region_name].associate_route_table(
            props["RouteTableId"], subnet_id=props["SubnetId"])
        return cls(association_id)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        if any(self.physical_id in table._associations for table in backend.route_tables.values()):
            backend.disassociate_route_table(self.physical_id)


class RouteTable(Delegate, CloudFormationModel):
    MODEL = MotoRouteTable

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::RouteTable"

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        ec2_backends[account_id][region_name].delete_route_table(resource_name)


class FlowLog(Delegate, CloudFormationModel):
    MODEL = MotoFlowLogs

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::FlowLog"

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        fixed = copy.deepcopy(cloudformation_json)
        props = fixed.get("Properties", {})
        if props.get("LogDestinationType") == "s3" and props.get("LogDestination"):
            bucket_arn, _, _ = props["LogDestination"].partition("/")
            props["LogDestination"] = bucket_arn
        return fixed

    @classmethod
    def after(cls, resource: Any, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        if props.get("LogDestination"):
            resource.log_destination = props["LogDestination"]
        return resource
