"""AWS::RDS::DBInstance on a real PostgreSQL server (postgres.py), with the password RDS manages in Secrets Manager.

moto's own handler drops most of a template's instance: the identifier (it names the instance after the logical
id), deletion protection, IAM authentication, log exports, monitoring and the managed master password; its
default port is MySQL's. Its managed secret holds a fixed user and password ("admin" / a constant) and no
rotation. This handler creates the instance with every property the template sets, gives the managed secret
the master user and a random password, configures the 7-day rotation RDS sets up for the secrets it manages
(RDS user guide, "Password management with Amazon RDS and AWS Secrets Manager"), and starts a PostgreSQL server
with that user, password and database, TLS required where the parameter group says rds.force_ssl = 1.
The endpoint is that server: 127.0.0.1 and its port. Deleting the instance stops the server; with deletion
protection on, DeleteDBInstance fails as on AWS.
"""

from __future__ import annotations

import functools
import json
import secrets
import socket
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.rds.models import DBInstance, rds_backends

from shipyard.localaws.core.base import Handler, patch, properties, tags_list, wrap
from shipyard.localaws.rds import postgres

ROTATION_DAYS = 7  # RDS rotates the secrets it manages every 7 days by default


def _key(account_id: str, region_name: str, identifier: str) -> str:
    return f"{account_id}/{region_name}/{identifier}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _force_ssl(backend: Any, group_name: str | None) -> bool:
    group = backend.db_parameter_groups.get(group_name) if group_name else None
    value = (getattr(group, "parameters", {}) or {}).get("rds.force_ssl", {}) if group else {}
    return str(value.get("ParameterValue", "0") if isinstance(value, dict) else value) == "1"


def _name(value: Any) -> str | None:
    """A Ref to a subnet or parameter group: moto hands over its model, whose name is what CloudFormation's Ref returns."""
    return None if value is None else str(getattr(value, "name", value))


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


class RdsInstance(Handler, CloudFormationModel):
    ATTRIBUTES = ("Endpoint.Address", "Endpoint.Port", "DBInstanceArn", "DbiResourceId", "MasterUserSecret.SecretArn")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DBInstanceIdentifier"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBInstance"

    def __init__(self, instance: Any, server: postgres.Server) -> None:
        self.physical_id = instance.db_instance_identifier
        self.region = instance.region
        self.attributes = {"Endpoint.Address": "127.0.0.1", "Endpoint.Port": str(server.port), "DBInstanceArn": instance.arn,
                           "DbiResourceId": instance.dbi_resource_id,
                           "MasterUserSecret.SecretArn": instance.master_user_secret.secret_arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        if props.get("Engine") != "postgres":
            raise ValueError(f"the embedded AWS runs RDS for PostgreSQL only, not {props.get('Engine')}")
        if not _flag(props.get("ManageMasterUserPassword")):
            raise ValueError("the embedded AWS runs RDS instances with ManageMasterUserPassword only (a password in a template "
                             "is what shipyard never makes)")
        backend = rds_backends[account_id][region_name]
        identifier = props.get("DBInstanceIdentifier") or str(resource_name).lower()
        port = _free_port()
        instance = backend.create_db_instance({
            "db_instance_identifier": identifier, "engine": "postgres", "engine_version": props.get("EngineVersion"),
            "db_instance_class": props.get("DBInstanceClass"), "allocated_storage": int(props.get("AllocatedStorage") or 20),
            "storage_type": props.get("StorageType", "gp2"), "storage_encrypted": _flag(props.get("StorageEncrypted")),
            "db_name": props.get("DBName"), "master_username": props.get("MasterUsername"),
            "manage_master_user_password": True, "port": port,
            "db_subnet_group_name": _name(props.get("DBSubnetGroupName")), "vpc_security_group_ids": props.get("VPCSecurityGroups", []),
            "db_parameter_group_name": _name(props.get("DBParameterGroupName")),
            "publicly_accessible": _flag(props.get("PubliclyAccessible")), "multi_az": _flag(props.get("MultiAZ")),
            "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)),
            "copy_tags_to_snapshot": _flag(props.get("CopyTagsToSnapshot")),
            "deletion_protection": _flag(props.get("DeletionProtection")),
            "auto_minor_version_upgrade": _flag(props.get("AutoMinorVersionUpgrade", True)),
            "enable_iam_database_authentication": _flag(props.get("EnableIAMDatabaseAuthentication")),
            "enable_cloudwatch_logs_exports": props.get("EnableCloudwatchLogsExports"),
            "monitoring_interval": int(props.get("MonitoringInterval", 0)), "monitoring_role_arn": props.get("MonitoringRoleArn"),
            "tags": tags_list(props),
        })
        password = secrets.token_urlsafe(24)
        secret = instance.master_user_secret.secret
        backend.secretsmanager.put_secret_value(secret.arn, json.dumps({"username": instance.master_username, "password": password}),
                                                None, None, ["AWSCURRENT"])
        secret.rotation_enabled, secret.auto_rotate_after_days = True, ROTATION_DAYS
        secret.rotation_requested = True
        server = postgres.start(_key(account_id, region_name, identifier), port=port, user=instance.master_username,
                                password=password, database=props.get("DBName") or "postgres",
                                force_ssl=_force_ssl(backend, _name(props.get("DBParameterGroupName"))))
        return cls(instance, server)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = properties(cloudformation_json)
        backend = rds_backends[account_id][region_name]
        instance = backend.modify_db_instance(original_resource.physical_id, {
            "db_instance_class": props.get("DBInstanceClass"), "allocated_storage": int(props.get("AllocatedStorage") or 20),
            "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)), "multi_az": _flag(props.get("MultiAZ")),
            "deletion_protection": _flag(props.get("DeletionProtection")),
        })
        server = postgres.find(_key(account_id, region_name, original_resource.physical_id))
        assert server is not None, f"no PostgreSQL server runs {original_resource.physical_id}"
        return cls(instance, server)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = rds_backends[account_id][self.region]
        backend.delete_db_instance(self.physical_id, skip_final_snapshot=True)  # refused while deletion protection is on
        postgres.stop(_key(account_id, self.region, self.physical_id))


def _address(original: Any) -> Any:
    @functools.wraps(original.fget)
    def address(self: Any) -> str:
        if postgres.find(_key(self.account_id, self.region, self.db_instance_identifier)) is not None:
            return "127.0.0.1"
        return original.fget(self)

    return property(address)


def reset() -> None:
    """Every database server stops."""
    postgres.stop_all()


def install() -> None:
    from moto.rds.models import DBParameterGroup, DBSubnetGroup

    wrap(DBInstance, "address", _address,
         corrects="an instance's endpoint is a made-up DNS name; the embedded AWS's instances answer on 127.0.0.1")
    for model in (DBSubnetGroup, DBParameterGroup):
        if "physical_resource_id" not in dir(model):
            patch(model, "physical_resource_id", property(lambda self: self.name),
                  corrects=f"{model.__name__} has no physical id, so its stack resource shows none and its Ref is the model")
