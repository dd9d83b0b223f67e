from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


def _true(value) -> bool:
    return str(value).lower() == "true"


def _logical(ref) -> str | None:
    return ref.get("Ref") if isinstance(ref, dict) else None


class DatabasePrivate(Rule):
    id = "SY-E801"
    severity = Severity.ERROR
    category = Category.DATABASE
    short = "Database exposed, unencrypted, without backups or TLS, or with a password in the template"
    long = ("An RDS instance or Aurora cluster must not be publicly accessible (nor any instance of the cluster), must "
            "encrypt its storage, keep automated backups (at least one day), let RDS manage its master password in "
            "Secrets Manager (no MasterUserPassword in the template), require TLS through its parameter group (the "
            "cluster parameter group for Aurora: rds.force_ssl = 1) and, in a production environment, have deletion "
            "protection on.")
    rationale = ("A database is where a breach or a mistake costs the most: a public endpoint invites password guessing, "
                 "a password in a template is readable by anyone who can read the stack, and production data without "
                 "backups or deletion protection is one command away from gone.")

    def check(self, view: StackView):
        groups = {logical_id: props for kind in ("AWS::RDS::DBParameterGroup", "AWS::RDS::DBClusterParameterGroup")
                  for logical_id, props in view.resources(kind)}
        for kind, group_key in (("AWS::RDS::DBInstance", "DBParameterGroupName"), ("AWS::RDS::DBCluster", "DBClusterParameterGroupName")):
            for logical_id, props in view.resources(kind):
                problems = ["is publicly accessible"] if _true(props.get("PubliclyAccessible")) else []
                if "DBClusterIdentifier" not in props:  # a cluster's instance: the cluster holds the rest
                    problems += self._holder_problems(props, groups.get(_logical(props.get(group_key)) or ""), view.production)
                if problems:
                    yield Violation(logical_id, "; ".join(problems))

    @staticmethod
    def _holder_problems(props: dict, group: dict | None, production: bool) -> list[str]:
        """What is wrong with the resource that holds the data and its settings: an instance, or a cluster."""
        problems = []
        if not _true(props.get("StorageEncrypted")):
            problems.append("storage is not encrypted")
        if int(props.get("BackupRetentionPeriod", 1)) < 1:
            problems.append("keeps no automated backups")
        if "MasterUserPassword" in props or not _true(props.get("ManageMasterUserPassword")):
            problems.append("its master password is not managed by RDS in Secrets Manager")
        if str(((group or {}).get("Parameters") or {}).get("rds.force_ssl", "0")) != "1":
            problems.append("its parameter group does not set rds.force_ssl = 1, so clients may connect without TLS")
        if production and not _true(props.get("DeletionProtection")):
            problems.append("has no deletion protection in a production environment")
        return problems

    verify_title = "database private, encrypted, backed up, TLS only, its password rotated"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        database = live.database
        if database is None:
            return LiveFinding(True, "no database", "no [database] in shipyard.toml")
        problems = [what for what, bad in (("is publicly accessible", database.public), ("storage is not encrypted", not database.encrypted),
                                           ("keeps no automated backups", database.backup_days < 1),
                                           ("has no deletion protection in a production environment",
                                            live.env.is_production and not database.deletion_protection)) if bad]
        rds = live.aws.rds(live.region)
        problems += [f"parameter group {group} does not require TLS (rds.force_ssl)" for group in database.parameter_groups
                     if rds.user_parameters(database, group).get("rds.force_ssl") != "1"]
        if not database.parameter_groups:
            problems.append("it has no parameter group of its own, so TLS is not required (rds.force_ssl)")
        if not database.master_secret:
            problems.append("its master password is not managed by RDS in Secrets Manager")
        elif not live.aws.secrets(live.region).rotates(database.master_secret):
            problems.append(f"secret {database.master_secret} does not rotate")
        return LiveFinding(not problems, database.arn, "; ".join(problems) or f"private, encrypted, {database.backup_days} days of backups, "
                           "TLS required, password managed and rotated by RDS")


RULE = DatabasePrivate()
