"""AWS::EC2::SecurityGroupEgress into moto's EC2 backend."""

from __future__ import annotations

import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends

from shipyard.localaws.handlers._base import Handler, properties


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
        ec2_backends[account_id][region_name].revoke_security_group_egress(**self.rule)
