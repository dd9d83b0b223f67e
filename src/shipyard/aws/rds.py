"""RDS and Secrets Manager: the environment's database (an instance or an Aurora cluster), its parameters and its managed
master secret."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class LiveDatabase:
    """The environment's database as RDS describes it: an instance, or an Aurora cluster with its instances."""

    arn: str
    cluster: bool
    public: bool  # the instance, or any instance of the cluster
    encrypted: bool
    backup_days: int
    deletion_protection: bool
    parameter_groups: tuple[str, ...]  # DB parameter groups of an instance; the cluster parameter group of a cluster
    security_groups: tuple[str, ...]
    master_secret: str | None  # the ARN of the secret RDS manages, None when RDS manages none


@dataclass(frozen=True)
class ClusterFacts:
    arn: str
    engine: str
    database_name: str
    master_username: str
    encrypted: bool
    subnet_group: str
    endpoint: str
    reader_endpoint: str
    port: str


def _group_ids(described: dict) -> tuple[str, ...]:
    return tuple(g["VpcSecurityGroupId"] for g in described.get("VpcSecurityGroups", []))


class Rds(ServiceApi):
    service = "rds"

    def database(self, identifier: str) -> LiveDatabase | None:
        """The instance, else the Aurora cluster, of this identifier; None when neither exists."""
        found = self._instances(DBInstanceIdentifier=identifier)
        if found:
            i = found[0]
            return LiveDatabase(
                i["DBInstanceArn"], False, bool(i.get("PubliclyAccessible")), bool(i.get("StorageEncrypted")),
                int(i.get("BackupRetentionPeriod", 0)), bool(i.get("DeletionProtection")),
                tuple(g["DBParameterGroupName"] for g in i.get("DBParameterGroups", [])), _group_ids(i),
                (i.get("MasterUserSecret") or {}).get("SecretArn"))
        c = self._cluster(identifier)
        if c is None:
            return None
        members = self._instances(Filters=[{"Name": "db-cluster-id", "Values": [identifier]}])
        return LiveDatabase(
            c["DBClusterArn"], True, any(m.get("PubliclyAccessible") for m in members), bool(c.get("StorageEncrypted")),
            int(c.get("BackupRetentionPeriod", 0)), bool(c.get("DeletionProtection")),
            (c["DBClusterParameterGroup"],) if c.get("DBClusterParameterGroup") else (), _group_ids(c),
            (c.get("MasterUserSecret") or {}).get("SecretArn"))

    def cluster(self, identifier: str) -> ClusterFacts | None:
        """What a cluster was created with, as adoption compares it, and where it answers."""
        c = self._cluster(identifier)
        if c is None:
            return None
        return ClusterFacts(c["DBClusterArn"], c.get("Engine", ""), c.get("DatabaseName", ""), c.get("MasterUsername", ""),
                            bool(c.get("StorageEncrypted")), c.get("DBSubnetGroup", ""), c.get("Endpoint", ""),
                            c.get("ReaderEndpoint", ""), str(c.get("Port", "")))

    def subnet_group_vpc(self, name: str) -> str | None:
        found = (self._found("DescribeDBSubnetGroups", DBSubnetGroupName=name) or {}).get("DBSubnetGroups") or []
        return found[0].get("VpcId") if found else None

    def _cluster(self, identifier: str) -> dict | None:
        found = (self._found("DescribeDBClusters", DBClusterIdentifier=identifier) or {}).get("DBClusters") or []
        return found[0] if found else None

    def _instances(self, **which: object) -> list[dict]:
        """The instances of an identifier or a filter; none where the identifier names no instance."""
        return ((self._found("DescribeDBInstances", **which) or {}).get("DBInstances") or [])

    def user_parameters(self, database: LiveDatabase, group: str) -> dict[str, str]:
        """The parameters the group sets (source user), by name: a cluster's group for a cluster."""
        if database.cluster:
            found = self._pages("DescribeDBClusterParameters", "Parameters", DBClusterParameterGroupName=group, Source="user")
        else:
            found = self._pages("DescribeDBParameters", "Parameters", DBParameterGroupName=group, Source="user")
        return {p["ParameterName"]: str(p.get("ParameterValue", "")) for p in found}

    def allow_deletion(self, identifier: str, *, cluster: bool = False) -> None:
        if cluster:
            self._call("ModifyDBCluster", DBClusterIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)
        else:
            self._call("ModifyDBInstance", DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)


class SecretsManager(ServiceApi):
    service = "secretsmanager"

    def rotates(self, secret: str) -> bool:
        return bool((self._described(secret) or {}).get("RotationEnabled"))

    def exists(self, secret: str) -> bool:
        """Whether the secret exists (its description only: no value is read)."""
        return self._described(secret) is not None

    def _described(self, secret: str) -> dict | None:
        return self._found("DescribeSecret", SecretId=secret)
