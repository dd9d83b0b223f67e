"""EC2 types: SecurityGroup, whose moto model drops rule descriptions and the template's egress (keeping
an allow-all egress a template replaced); SecurityGroupEgress, which moto skips; SecurityGroupIngress, whose
moto model cannot be deleted once its group is gone; SubnetRouteTableAssociation,
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
from moto.ec2.models.security_groups import SecurityGroup as MotoSecurityGroup

from shipyard.localaws.core.base import Delegate, Handler, patch, properties, wrap


def _rule(group_id: str, props: dict[str, Any], peer: str) -> dict[str, Any]:
    """moto's authorize arguments for one CloudFormation rule; peer: Source (ingress) or Destination (egress)."""
    group, prefix_list = props.get(f"{peer}SecurityGroupId"), props.get(f"{peer}PrefixListId")
    description = props.get("Description", "")
    return dict(
        group_name_or_id=group_id,
        ip_protocol=str(props["IpProtocol"]),
        from_port=props.get("FromPort", -1),
        to_port=props.get("ToPort", -1),
        ip_ranges=[{"CidrIp": props["CidrIp"], "Description": description}] if "CidrIp" in props else [],
        source_groups=[{"GroupId": group, "Description": description}] if group else None,
        prefix_list_ids=[{"PrefixListId": prefix_list, "Description": description}] if prefix_list else None,
    )


class SecurityGroup(Delegate, CloudFormationModel):
    MODEL = MotoSecurityGroup

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroup"

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        fixed = copy.deepcopy(cloudformation_json)
        fixed.get("Properties", {}).pop("SecurityGroupIngress", None)  # after() applies them with their descriptions
        return fixed

    @classmethod
    def after(cls, resource: Any, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        backend = ec2_backends[account_id][region_name]
        for rule in props.get("SecurityGroupIngress", []):
            backend.authorize_security_group_ingress(**_rule(resource.id, rule, "Source"), vpc_id=resource.vpc_id)
        if "SecurityGroupEgress" in props:  # EC2 adds its allow-all egress only to a group created without rules
            resource.egress_rules = []
            for rule in props["SecurityGroupEgress"]:
                backend.authorize_security_group_egress(**_rule(resource.id, rule, "Destination"), vpc_id=resource.vpc_id)
        return resource


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
        return _rule(props["GroupId"], props, "Destination")

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


class SecurityGroupIngress(SecurityGroupEgress, CloudFormationModel):
    """moto's own ingress handler fails the stack's delete when the group went first (its revoke raises NotFound)."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupIngress"

    @staticmethod
    def _arguments(props: dict[str, Any]) -> dict[str, Any]:
        return _rule(props["GroupId"], props, "Source")

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        arguments = cls._arguments(properties(cloudformation_json))
        ec2_backends[account_id][region_name].authorize_security_group_ingress(**arguments)
        return cls(arguments)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ec2_backends[account_id][region_name]
        if backend.get_security_group_by_name_or_id(self.rule["group_name_or_id"]) is not None:
            backend.revoke_security_group_ingress(**self.rule)


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


# Corrections of moto's own EC2 models, applied after moto creates the resource.

def _apply_settings(resource: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    backend = ec2_backends[account_id][region_name]
    if "MapPublicIpOnLaunch" in props:
        resource.map_public_ip_on_launch = bool(props["MapPublicIpOnLaunch"])
    for key, attribute in (("EnableDnsHostnames", "enable_dns_hostnames"), ("EnableDnsSupport", "enable_dns_support")):
        if key in props:
            setattr(resource, attribute, bool(props[key]))
    if props.get("Tags"):
        backend.create_tags([resource.id], {t["Key"]: t["Value"] for t in props["Tags"]})


def _with_settings(original: Any) -> Any:
    def create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        resource = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _apply_settings(resource, properties(cloudformation_json), account_id, region_name)
        return resource

    return classmethod(create)


def _referenced_group(original: Any) -> Any:
    """EC2 refuses to delete a security group another group's rule refers to, or that a network interface still uses
    (DependencyViolation, "resource sg-... has a dependent object"): CloudFormation then deletes the referring rule
    first, and a database's interfaces keep its groups until the database moves to others or goes."""

    def wrapper(self: Any, vpc_id: str | None, group_id: str) -> None:
        from moto.ec2.exceptions import DependencyViolationError
        from moto.rds.models import rds_backends

        for groups in self.groups.values():
            for group in groups.values():
                if group.id != group_id and any((rule.source_group or {}).get("GroupId") == group_id
                                                for rule in [*group.ingress_rules, *group.egress_rules]):
                    raise DependencyViolationError(f"resource {group_id} has a dependent object")
        databases = rds_backends[self.account_id][self.region_name]
        if any(group_id in (holder.vpc_security_group_ids or []) for holder in
               [*databases.clusters.values(), *databases.databases.values()]):
            raise DependencyViolationError(f"resource {group_id} has a dependent object")
        return original(self, vpc_id, group_id)

    return wrapper


def install() -> None:
    from moto import settings
    from moto.ec2.models.internet_gateways import InternetGateway
    from moto.ec2.models.security_groups import SecurityGroupBackend

    patch(settings, "ec2_load_default_amis", lambda: False,
          corrects="(not a correction) no account's EC2 starts with moto's 1,291 sample AMIs: nothing here runs an "
                   "instance, and loading them took 85 ms of every account and region the embedded AWS serves")

    wrap(SecurityGroupBackend, "_delete_security_group", _referenced_group,
         corrects="a security group another group's rule refers to, or a database uses, is deleted")
    from moto.ec2.models.subnets import Subnet
    from moto.ec2.models.vpcs import VPC

    for model in (VPC, Subnet, MotoRouteTable, InternetGateway):
        patch(model, "create_from_cloudformation_json", _with_settings(model.create_from_cloudformation_json),
              corrects=f"{model.__name__}: the template's Tags and settings (public IPs on launch, DNS) are dropped")
