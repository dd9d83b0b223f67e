"""RDS and Secrets Manager: the environment's database instance, its parameters and its managed master secret."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class DatabaseInstance:
    arn: str
    public: bool
    encrypted: bool
    backup_days: int
    deletion_protection: bool
    parameter_groups: tuple[str, ...]
    security_groups: tuple[str, ...]
    master_secret: str | None  # the ARN of the secret RDS manages, None when RDS manages none


class Rds(ServiceApi):
    service = "rds"

    def instance(self, identifier: str) -> DatabaseInstance | None:
        answer = self._found("DescribeDBInstances", DBInstanceIdentifier=identifier)
        found = (answer or {}).get("DBInstances") or []
        if not found:
            return None
        i = found[0]
        return DatabaseInstance(
            i["DBInstanceArn"], bool(i.get("PubliclyAccessible")), bool(i.get("StorageEncrypted")), int(i.get("BackupRetentionPeriod", 0)),
            bool(i.get("DeletionProtection")), tuple(g["DBParameterGroupName"] for g in i.get("DBParameterGroups", [])),
            tuple(g["VpcSecurityGroupId"] for g in i.get("VpcSecurityGroups", [])), (i.get("MasterUserSecret") or {}).get("SecretArn"))

    def user_parameters(self, group: str) -> dict[str, str]:
        """The parameters the group sets (source user), by name."""
        found = self._pages("DescribeDBParameters", "Parameters", DBParameterGroupName=group, Source="user")
        return {p["ParameterName"]: str(p.get("ParameterValue", "")) for p in found}

    def allow_deletion(self, identifier: str) -> None:
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
