"""What AWS accepts, as shipyard.toml's checks need it: Fargate sizes, regions, log retentions, RDS classes and
PostgreSQL versions, and what a credential looks like. Each list names the AWS page it comes from."""

from __future__ import annotations

import re
from functools import cache

FARGATE_CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)


def fargate_memory_options(cpu: int) -> tuple[int, ...]:
    """The task memory sizes (MiB) Fargate accepts for a task CPU size (ECS developer guide, "Task CPU and memory")."""
    steps = {
        256: (512, 1024, 2048),
        512: tuple(range(1024, 4096 + 1, 1024)),
        1024: tuple(range(2048, 8192 + 1, 1024)),
        2048: tuple(range(4096, 16384 + 1, 1024)),
        4096: tuple(range(8192, 30720 + 1, 1024)),
        8192: tuple(range(16384, 61440 + 1, 4096)),
        16384: tuple(range(32768, 122880 + 1, 8192)),
    }
    return steps.get(cpu, ())


@cache
def known_regions() -> frozenset[str]:
    """Regions where ECS Fargate exists, from botocore's own endpoint data."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ecs", partition_name=partition))
    return frozenset(regions)


# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)

# Memory (GiB) of the RDS instance classes shipyard sizes alarms and prices for (RDS user guide, "DB instance classes").
DB_INSTANCE_MEMORY_GIB = {
    "db.t4g.micro": 1, "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8, "db.t4g.xlarge": 16,
    "db.m7g.large": 8, "db.m7g.xlarge": 16, "db.m7g.2xlarge": 32, "db.m7g.4xlarge": 64,
    "db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64,
}


def max_connections(instance_class: str) -> int:
    """RDS for PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000) (parameter group default)."""
    return min(int(DB_INSTANCE_MEMORY_GIB[instance_class] * 1024 ** 3 / 9531392), 5000)


# RDS for PostgreSQL major versions in standard support (RDS user guide, "Supported PostgreSQL major versions"),
# each pinned to its newest minor that RDS still creates instances with (cfn-lint's data from DescribeDBEngineVersions
# marks the older ones, and a bare major version, deprecated). Minor upgrades then arrive through AutoMinorVersionUpgrade.
POSTGRES_VERSIONS = {"14": "14.24", "15": "15.19", "16": "16.15", "17": "17.11"}
POSTGRES_MAJOR_VERSIONS = tuple(POSTGRES_VERSIONS)
# Aurora PostgreSQL's, pinned the same way from cfn-lint's DBCluster data (its newest minors happen to carry RDS's numbers).
AURORA_POSTGRES_VERSIONS = {"14": "14.24", "15": "15.19", "16": "16.15", "17": "17.11"}
ENGINE_VERSIONS = {"postgres": POSTGRES_VERSIONS, "aurora-postgresql": AURORA_POSTGRES_VERSIONS}
ENGINE_TITLES = {"postgres": "RDS for PostgreSQL", "aurora-postgresql": "Aurora PostgreSQL Serverless v2"}

# Aurora Serverless v2 capacity (Aurora user guide, "Aurora Serverless v2 capacity"): 0 to 256 ACUs in steps of 0.5, each
# ACU about 2 GiB of memory; a minimum of 0 pauses the instance when idle (Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 and
# later, which every pinned version is).
ACU_STEP, ACU_MAX, ACU_MEMORY_GIB = 0.5, 256, 2


def aurora_max_connections(max_capacity: float) -> int:
    """Aurora PostgreSQL's default max_connections for Serverless v2, sized by the maximum capacity's memory with the same
    formula as an instance's (Aurora user guide, "Maximum connections to an Aurora PostgreSQL DB instance")."""
    return min(int(max(max_capacity, 1) * ACU_MEMORY_GIB * 1024 ** 3 / 9531392), 5000)
# Reserved by RDS or PostgreSQL as master user names.
# Not "postgres": it is the RDS console's own default master user (RDS user guide, "Understanding PostgreSQL roles and
# permissions"), and Copilot's Aurora addons use it.
RESERVED_DB_USERS = {"rdsadmin", "rdsrepladmin", "rds_superuser", "admin", "public", "user"}

# What a credential looks like, by its variable's name or by its value: an AWS access key id, a PEM private key, a
# GitHub token, a Slack token. SY-E501 finds them in templates; shipyard.toml refuses them in plain environment values.
CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY)", re.I)
CREDENTIAL_VALUE = re.compile(r"(AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY|ghp_[A-Za-z0-9]{30,}|"
                              r"github_pat_[A-Za-z0-9_]{30,}|xox[bp]-)")


def looks_like_credential(name: str, value: object) -> bool:
    return bool(CREDENTIAL_NAME.search(name)) or (isinstance(value, str) and bool(CREDENTIAL_VALUE.search(value)))
