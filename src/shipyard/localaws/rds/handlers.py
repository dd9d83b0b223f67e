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

AWS::RDS::DBCluster (Aurora PostgreSQL), which moto's CloudFormation does not create at all, is the same: the cluster
holds the server, the managed secret and the data; its instances (DBClusterIdentifier set, db.serverless) answer on
the cluster's server, and RDS refuses a managed password or a storage setting on them, as on AWS (RDS API reference,
CreateDBInstance: "Not applicable. ... managed by the DB cluster"). A cluster with instances cannot be deleted; its
TLS setting comes from its cluster parameter group (AWS::RDS::DBClusterParameterGroup, also made here).
"""

from __future__ import annotations

import functools
import json
import re
import secrets
import socket
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.rds.models import DBCluster, DBInstance, MasterUserSecret, rds_backends

from shipyard.localaws.core.base import Handler, flag, patch, properties, tags_list, wrap
from shipyard.localaws.rds import postgres

ROTATION_DAYS = 7  # RDS rotates the secrets it manages every 7 days by default


def _key(account_id: str, region_name: str, identifier: str) -> str:
    return f"{account_id}/{region_name}/{identifier}"


def _generated(resource_name: str) -> str:
    """The identifier CloudFormation makes for an RDS resource the template names none for: its stack and logical id
    with a random suffix, lowercase and cut to RDS's 63 characters (a letter first, no double or trailing hyphen)."""
    stack_and_logical, _, suffix = str(resource_name).lower().rpartition("-")
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", stack_and_logical)).strip("-")
    return f"{cleaned[:62 - len(suffix)].rstrip('-')}-{suffix}"


def _running(account: str, region: str, identifier: str) -> postgres.Server:
    """The PostgreSQL server of an instance or cluster that exists."""
    server = postgres.find(_key(account, region, identifier))
    assert server is not None, f"no PostgreSQL server runs {identifier}"
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _force_ssl(backend: Any, group_name: str | None, *, cluster: bool = False) -> bool:
    groups = backend.db_cluster_parameter_groups if cluster else backend.db_parameter_groups
    group = groups.get(group_name) if group_name else None
    value = (getattr(group, "parameters", {}) or {}).get("rds.force_ssl", {}) if group else {}
    return str(value.get("ParameterValue", "0") if isinstance(value, dict) else value) == "1"


def _name(value: Any) -> str | None:
    """A Ref to a subnet or parameter group: moto hands over its model, whose name is what CloudFormation's Ref returns."""
    return None if value is None else str(getattr(value, "name", value))



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
        if props.get("DBClusterIdentifier"):
            return RdsClusterInstance.create(resource_name, props, account_id, region_name)
        if props.get("Engine") != "postgres":
            raise ValueError(f"the embedded AWS runs RDS for PostgreSQL only, not {props.get('Engine')}")
        if not flag(props.get("ManageMasterUserPassword")):
            raise ValueError("the embedded AWS runs RDS instances with ManageMasterUserPassword only (a password in a template "
                             "is what shipyard never makes)")
        backend = rds_backends[account_id][region_name]
        identifier = props.get("DBInstanceIdentifier") or _generated(resource_name)
        port = _free_port()
        instance = backend.create_db_instance({
            "db_instance_identifier": identifier, "engine": "postgres", "engine_version": props.get("EngineVersion"),
            "db_instance_class": props.get("DBInstanceClass"), "allocated_storage": int(props.get("AllocatedStorage") or 20),
            "storage_type": props.get("StorageType", "gp2"), "storage_encrypted": flag(props.get("StorageEncrypted")),
            "db_name": props.get("DBName"), "master_username": props.get("MasterUsername"),
            "manage_master_user_password": True, "port": port,
            "db_subnet_group_name": _name(props.get("DBSubnetGroupName")), "vpc_security_group_ids": props.get("VPCSecurityGroups", []),
            "db_parameter_group_name": _name(props.get("DBParameterGroupName")),
            "publicly_accessible": flag(props.get("PubliclyAccessible")), "multi_az": flag(props.get("MultiAZ")),
            "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)),
            "copy_tags_to_snapshot": flag(props.get("CopyTagsToSnapshot")),
            "deletion_protection": flag(props.get("DeletionProtection")),
            "auto_minor_version_upgrade": flag(props.get("AutoMinorVersionUpgrade", True)),
            "enable_iam_database_authentication": flag(props.get("EnableIAMDatabaseAuthentication")),
            "enable_cloudwatch_logs_exports": props.get("EnableCloudwatchLogsExports"),
            "monitoring_interval": int(props.get("MonitoringInterval", 0)), "monitoring_role_arn": props.get("MonitoringRoleArn"),
            "tags": tags_list(props),
        })
        password = _managed_password(backend, instance)
        server = postgres.start(_key(account_id, region_name, identifier), port=port, user=instance.master_username,
                                password=password, database=props.get("DBName") or "postgres",
                                force_ssl=_force_ssl(backend, _name(props.get("DBParameterGroupName"))))
        return cls(instance, server)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = properties(cloudformation_json)
        backend = rds_backends[account_id][region_name]
        if props.get("DBClusterIdentifier"):  # a cluster's instance: what it has of its own changes in place
            member = backend.databases[original_resource.physical_id]
            member.db_instance_class = props.get("DBInstanceClass", member.db_instance_class)
            member.publicly_accessible = flag(props.get("PubliclyAccessible"))
            member.promotion_tier = int(props.get("PromotionTier", 1))
            member.auto_minor_version_upgrade = flag(props.get("AutoMinorVersionUpgrade", True))
            member.tags = tags_list(props)
            return RdsClusterInstance.existing(member)
        instance = backend.modify_db_instance(original_resource.physical_id, {
            "db_instance_class": props.get("DBInstanceClass"), "allocated_storage": int(props.get("AllocatedStorage") or 20),
            "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)), "multi_az": flag(props.get("MultiAZ")),
            "deletion_protection": flag(props.get("DeletionProtection")),
        })
        server = _running(account_id, region_name, original_resource.physical_id)
        return cls(instance, server)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = rds_backends[account_id][self.region]
        backend.delete_db_instance(self.physical_id, skip_final_snapshot=True)  # refused while deletion protection is on
        postgres.stop(_key(account_id, self.region, self.physical_id))


def _managed_password(backend: Any, owner: Any) -> str:
    """The master password RDS makes for an instance or cluster with ManageMasterUserPassword, in its managed secret,
    rotating every 7 days."""
    password = secrets.token_urlsafe(24)
    secret = owner.master_user_secret.secret
    backend.secretsmanager.put_secret_value(secret.arn, json.dumps({"username": owner.master_username, "password": password}),
                                            None, None, ["AWSCURRENT"])
    secret.rotation_enabled, secret.auto_rotate_after_days = True, ROTATION_DAYS
    secret.rotation_requested = True
    return password


def _scaling(props: dict[str, Any]) -> dict[str, Any] | None:
    """ServerlessV2ScalingConfiguration as RDS reports it; RDS refuses a range outside 0-256 ACUs or upside down."""
    given = props.get("ServerlessV2ScalingConfiguration")
    if not given:
        return None
    low, high = float(given.get("MinCapacity", 0.5)), float(given.get("MaxCapacity", 0))
    if not (0 <= low <= high <= 256 and high >= 1):
        raise ValueError(f"InvalidParameterCombination: ServerlessV2ScalingConfiguration {low}-{high} ACUs is not a valid range")
    scaling = {"MinCapacity": low, "MaxCapacity": high}
    if low == 0:
        scaling["SecondsUntilAutoPause"] = int(given.get("SecondsUntilAutoPause", 300))
    return scaling


class RdsClusterParameterGroup(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "DBClusterParameterGroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBClusterParameterGroup"

    def __init__(self, name: str, region: str) -> None:
        self.physical_id, self.region, self.attributes = name, region, {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = rds_backends[account_id][region_name]
        name = str(props.get("DBClusterParameterGroupName") or _generated(resource_name)).lower()
        backend.create_db_cluster_parameter_group(name, props.get("Family"), props.get("Description"), tags_list(props))
        backend.modify_db_cluster_parameter_group(name, [
            {"ParameterName": key, "ParameterValue": str(value), "ApplyMethod": "pending-reboot"}
            for key, value in (props.get("Parameters") or {}).items()])
        return cls(name, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        rds_backends[account_id][self.region].delete_db_cluster_parameter_group(self.physical_id)


class RdsCluster(Handler, CloudFormationModel):
    ATTRIBUTES = ("Endpoint.Address", "Endpoint.Port", "ReadEndpoint.Address", "DBClusterArn", "DBClusterResourceId",
                  "MasterUserSecret.SecretArn")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "DBClusterIdentifier"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::RDS::DBCluster"

    def __init__(self, cluster: Any, server: postgres.Server) -> None:
        self.physical_id, self.region = cluster.db_cluster_identifier, cluster.region
        self.attributes = {"Endpoint.Address": "127.0.0.1", "Endpoint.Port": str(server.port), "ReadEndpoint.Address": "127.0.0.1",
                           "DBClusterArn": cluster.arn, "DBClusterResourceId": cluster.db_cluster_resource_id,
                           **({"MasterUserSecret.SecretArn": cluster.master_user_secret.secret_arn}
                              if cluster.manage_master_user_password else {})}

    @classmethod
    def existing(cls, cluster: Any) -> RdsCluster:
        """A cluster that exists already, as a stack that imports it holds it."""
        return cls(cluster, _running(cluster.account_id, cluster.region, cluster.db_cluster_identifier))

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        if props.get("Engine") != "aurora-postgresql":
            raise ValueError(f"the embedded AWS runs Aurora PostgreSQL clusters only, not {props.get('Engine')}")
        managed = flag(props.get("ManageMasterUserPassword"))
        if managed == bool(props.get("MasterUserPassword")):
            raise ValueError("InvalidParameterCombination: give MasterUserPassword or ManageMasterUserPassword, one of them")
        backend = rds_backends[account_id][region_name]
        identifier = str(props.get("DBClusterIdentifier") or _generated(resource_name)).lower()
        port = _free_port()
        group = _name(props.get("DBClusterParameterGroupName"))
        cluster = backend.create_db_cluster({
            "db_cluster_identifier": identifier, "engine": "aurora-postgresql", "engine_version": props.get("EngineVersion"),
            "master_username": props.get("MasterUsername"), "manage_master_user_password": managed,
            "master_user_password": props.get("MasterUserPassword"), "port": port,
            "database_name": props.get("DatabaseName"), "db_cluster_parameter_group_name": group,
            "db_subnet_group_name": _name(props.get("DBSubnetGroupName")), "vpc_security_group_ids": props.get("VpcSecurityGroupIds", []),
            "storage_encrypted": flag(props.get("StorageEncrypted")), "kms_key_id": props.get("KmsKeyId"),
            "backup_retention_period": int(props.get("BackupRetentionPeriod", 1)),
            "copy_tags_to_snapshot": flag(props.get("CopyTagsToSnapshot")), "deletion_protection": flag(props.get("DeletionProtection")),
            "enable_iam_database_authentication": flag(props.get("EnableIAMDatabaseAuthentication")),
            "enable_cloudwatch_logs_exports": props.get("EnableCloudwatchLogsExports"),
            "serverless_v2_scaling_configuration": _scaling(props), "tags": tags_list(props),
        })
        password = _managed_password(backend, cluster) if managed else props["MasterUserPassword"]
        server = postgres.start(_key(account_id, region_name, identifier), port=port, user=cluster.master_username,
                                password=password, database=props.get("DatabaseName") or "postgres",
                                force_ssl=_force_ssl(backend, group, cluster=True))
        return cls(cluster, server)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = properties(cloudformation_json)
        backend = rds_backends[account_id][region_name]
        cluster = backend.clusters[original_resource.physical_id]
        cluster.backup_retention_period = int(props.get("BackupRetentionPeriod", 1))
        cluster.deletion_protection = flag(props.get("DeletionProtection"))
        cluster.vpc_security_group_ids = props.get("VpcSecurityGroupIds", [])
        cluster.serverless_v2_scaling_configuration = _scaling(props)
        cluster.enabled_cloudwatch_logs_exports = props.get("EnableCloudwatchLogsExports") or []
        cluster.iam_auth = flag(props.get("EnableIAMDatabaseAuthentication"))
        cluster.copy_tags_to_snapshot = flag(props.get("CopyTagsToSnapshot"))
        cluster.tags = tags_list(props)
        if props.get("EngineVersion"):
            cluster.engine_version = props["EngineVersion"]
        server = _running(account_id, region_name, original_resource.physical_id)
        group = _name(props.get("DBClusterParameterGroupName"))
        if group:
            cluster.parameter_group = group
            server.front.require_tls = _force_ssl(backend, group, cluster=True)
        if flag(props.get("ManageMasterUserPassword")) and not cluster.manage_master_user_password:
            # Management turned on: RDS makes the secret and a new password, so clients of the old password stop
            # connecting (Aurora user guide, "Password management with Amazon Aurora and AWS Secrets Manager").
            cluster.manage_master_user_password = True
            cluster.master_user_secret = MasterUserSecret(cluster, None)
            server.set_password(_managed_password(backend, cluster))
        elif props.get("MasterUserPassword") and not cluster.manage_master_user_password:
            server.set_password(props["MasterUserPassword"])
        return cls(cluster, server)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = rds_backends[account_id][self.region]
        backend.delete_db_cluster(self.physical_id)  # refused while deletion protection is on, or instances remain
        postgres.stop(_key(account_id, self.region, self.physical_id))


class RdsClusterInstance(Handler):
    """An instance of an Aurora cluster: its endpoint is the cluster's server."""

    ATTRIBUTES = RdsInstance.ATTRIBUTES

    def __init__(self, instance: Any, server: postgres.Server) -> None:
        self.physical_id, self.region = instance.db_instance_identifier, instance.region
        self.attributes = {"Endpoint.Address": "127.0.0.1", "Endpoint.Port": str(server.port), "DBInstanceArn": instance.arn,
                           "DbiResourceId": instance.dbi_resource_id}

    @classmethod
    def existing(cls, instance: Any) -> RdsClusterInstance:
        return cls(instance, _running(instance.account_id, instance.region, instance.db_cluster_identifier))

    @classmethod
    def create(cls, resource_name: str, props: dict[str, Any], account_id: str, region_name: str) -> RdsClusterInstance:
        for managed_by_cluster in ("ManageMasterUserPassword", "MasterUserPassword", "StorageEncrypted", "AllocatedStorage",
                                   "BackupRetentionPeriod", "DBName"):
            if managed_by_cluster in props:
                raise ValueError(f"InvalidParameterCombination: {managed_by_cluster} is managed by the DB cluster, not its instance")
        backend = rds_backends[account_id][region_name]
        cluster_id = _name(props["DBClusterIdentifier"])
        server = postgres.find(_key(account_id, region_name, str(cluster_id)))
        if server is None:
            raise ValueError(f"DBClusterNotFoundFault: cluster {cluster_id} does not exist")
        instance = backend.create_db_instance({
            "db_instance_identifier": props.get("DBInstanceIdentifier") or _generated(resource_name),
            "db_cluster_identifier": cluster_id, "engine": props.get("Engine"), "db_instance_class": props.get("DBInstanceClass"),
            "publicly_accessible": flag(props.get("PubliclyAccessible")), "promotion_tier": int(props.get("PromotionTier", 1)),
            "auto_minor_version_upgrade": flag(props.get("AutoMinorVersionUpgrade", True)),
            "monitoring_interval": int(props.get("MonitoringInterval", 0)), "monitoring_role_arn": props.get("MonitoringRoleArn"),
            "tags": tags_list(props),
        })
        return cls(instance, server)

    def delete(self, account_id: str, region_name: str) -> None:
        rds_backends[account_id][self.region].delete_db_instance(self.physical_id, skip_final_snapshot=True)


def existing(resource_type: str, identifier: dict[str, str], account: str, region: str) -> tuple[str, Any]:
    """(the identifying property, the resource as a stack holds it, or None) of an RDS resource to import."""
    backend = rds_backends[account][region]
    if resource_type == "AWS::RDS::DBCluster":
        cluster = backend.clusters.get(identifier.get("DBClusterIdentifier", "").lower())
        return "DBClusterIdentifier", RdsCluster.existing(cluster) if cluster is not None else None
    if resource_type == "AWS::RDS::DBSubnetGroup":
        return "DBSubnetGroupName", backend.subnet_groups.get(identifier.get("DBSubnetGroupName", "").lower())
    instance = backend.databases.get(identifier.get("DBInstanceIdentifier", "").lower())
    if instance is not None and getattr(instance, "db_cluster_identifier", None):
        return "DBInstanceIdentifier", RdsClusterInstance.existing(instance)
    return "DBInstanceIdentifier", instance


def _local(holder: Any) -> Any:
    """A wrapper of an endpoint property: 127.0.0.1 where the embedded AWS runs the server of holder(model)."""
    def wrapper(original: Any) -> Any:
        @functools.wraps(original.fget)
        def address(self: Any) -> str:
            if postgres.find(_key(self.account_id, self.region, holder(self))) is not None:
                return "127.0.0.1"
            return original.fget(self)

        return property(address)

    return wrapper


def _parameter_group_in_use(original: Any) -> Any:
    """RDS refuses to delete a cluster parameter group a cluster still uses (InvalidDBParameterGroupState)."""

    def wrapper(self: Any, db_cluster_parameter_group_name: str) -> None:
        from moto.rds.exceptions import RDSClientError

        name = db_cluster_parameter_group_name.lower()
        users = [c.db_cluster_identifier for c in self.clusters.values() if str(c.parameter_group).lower() == name]
        if users:
            raise RDSClientError("InvalidDBParameterGroupState", f"One or more database clusters are still members of this "
                                                                 f"parameter group {name}: {', '.join(users)}")
        return original(self, db_cluster_parameter_group_name)

    return wrapper


def _update_subnet_group(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
                         account_id: str, region_name: str) -> Any:
    from moto.ec2.models import ec2_backends

    props = properties(cloudformation_json)
    original_resource.description = props.get("DBSubnetGroupDescription", original_resource.description)
    original_resource.subnets = [ec2_backends[account_id][region_name].get_subnet(s) for s in props.get("SubnetIds", [])]
    original_resource.tags = tags_list(props)
    return original_resource


def reset() -> None:
    """Every database server stops."""
    postgres.stop_all()


def install() -> None:
    from moto.rds.models import DBParameterGroup, DBSubnetGroup, RDSBackend

    wrap(DBInstance, "address", _local(lambda i: getattr(i, "db_cluster_identifier", None) or i.db_instance_identifier),
         corrects="an instance's endpoint is a made-up DNS name; the embedded AWS's instances answer on 127.0.0.1")
    wrap(DBCluster, "endpoint", _local(lambda c: c.db_cluster_identifier),
         corrects="a cluster's endpoint is a made-up DNS name; the embedded AWS's clusters answer on 127.0.0.1")
    wrap(RDSBackend, "delete_db_cluster_parameter_group", _parameter_group_in_use,
         corrects="a cluster parameter group a cluster still uses is deleted")
    patch(DBSubnetGroup, "update_from_cloudformation_json", classmethod(_update_subnet_group),
          corrects="a DB subnet group's update returns nothing, and the stack loses it; RDS modifies it in place")
    for model in (DBSubnetGroup, DBParameterGroup):
        if "physical_resource_id" not in dir(model):
            patch(model, "physical_resource_id", property(lambda self: self.name),
                  corrects=f"{model.__name__} has no physical id, so its stack resource shows none and its Ref is the model")
