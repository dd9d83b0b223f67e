"""shipyard.toml -> frozen, validated models. First stage of the data flow.

All input validation lives here. Every problem becomes one line that names
the file, the key and what would be valid, and every problem of a file is
reported in one run (ConfigErrors), before anything else runs. Global values
under [defaults] are overridden by each [environments.<name>].
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shipyard import naming
from shipyard.errors import ConfigError, ConfigErrors, UsageError
from shipyard.schedule import AwakeSchedule, parse_schedule

DEFAULT_CONFIG = "shipyard.toml"

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_REF_RE = re.compile(r"^(secretsmanager:[A-Za-z0-9/_+=.@:-]+|ssm:/[A-Za-z0-9/_.-]+)$")
_TOML_POSITION_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")

# What an environment marked production may never run without, whatever [[checks.suppress]] says: a web ACL,
# a private bucket, a load balancer only CloudFront reaches, a deploy role only its own GitHub environment assumes.
UNSUPPRESSABLE_IN_PRODUCTION = {"SY-E105": "production without a WAF web ACL", "SY-E101": "a public site bucket",
                                "SY-E201": "a load balancer reachable from outside CloudFront",
                                "SY-E301": "a deploy role trusted beyond this repository's environment"}

# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


def fargate_memory_options(cpu: int) -> tuple[int, ...]:
    """The task memory sizes (MiB) Fargate accepts for a task CPU size."""
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


FARGATE_CPU = (256, 512, 1024, 2048, 4096, 8192, 16384)


@cache
def known_regions() -> frozenset[str]:
    """Regions where ECS Fargate exists, from botocore's own endpoint data."""
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ecs", partition_name=partition))
    return frozenset(regions)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class AppConfig(_Model):
    name: str = Field(description="application name: lowercase letters, digits and hyphens")
    region: str = Field(description="default AWS region of every environment")
    repository: str = Field(description="GitHub repository as owner/repo; it may deploy through OIDC")
    repository_owner_id: int | None = Field(None, ge=1, description="the owner's immutable numeric id (gh api repos/OWNER/REPO --jq .owner.id)")
    repository_id: int | None = Field(None, ge=1, description="the repository's immutable numeric id (gh api repos/OWNER/REPO --jq .id)")
    oidc_subject: Literal["name", "immutable"] | None = Field(
        None, description="the OIDC subject format the repository's tokens carry: 'immutable' (repo:owner@id/repo@id:..., "
                          "the default for repositories created or renamed since 2026-07-15) or 'name'; default: immutable when "
                          "both ids are set, else name")
    branch: str = Field("main", description="the branch whose pushes build, push and release images")

    @property
    def subject_format(self) -> str:
        return self.oidc_subject or ("immutable" if self.repository_owner_id and self.repository_id else "name")

    def subject(self, claim: str) -> str:
        """The OIDC `sub` GitHub puts in this repository's tokens for `claim` (environment:E, ref:refs/heads/B, ...)."""
        owner, repo = self.repository.split("/")
        if self.subject_format == "immutable":
            return f"repo:{owner}@{self.repository_owner_id}/{repo}@{self.repository_id}:{claim}"
        return f"repo:{owner}/{repo}:{claim}"

    @model_validator(mode="after")
    def _immutable_needs_ids(self) -> AppConfig:
        if self.oidc_subject == "immutable" and not (self.repository_owner_id and self.repository_id):
            raise ValueError("oidc_subject = 'immutable' needs repository_owner_id and repository_id "
                             "(gh api repos/OWNER/REPO --jq '.owner.id, .id')")
        return self

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value) or value.endswith("-"):
            raise ValueError(f"{value!r} is not valid; use lowercase letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _check_region(value)

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z0-9._/-]+$", value) or value.startswith(("/", "-")) or ".." in value:
            raise ValueError(f"{value!r} is not a branch name (e.g. main)")
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _REPOSITORY_RE.match(value):
            raise ValueError(f"{value!r} is not a GitHub repository; use owner/repo")
        return value


class ServiceConfig(_Model):
    directory: str = Field("service", description="the service's build context (its Dockerfile), relative to shipyard.toml")
    command: list[str] | None = Field(None, description="the command the image runs, if not its Dockerfile's CMD")
    port: int = Field(8000, ge=1024, le=65535, description="port the container listens on (unprivileged, so the image can run as non-root)")
    health_check_path: str = Field("/healthz", description="path the load balancer and the release health gate request")
    architecture: Literal["x86_64", "arm64"] = Field("arm64", description="CPU architecture of the image and the tasks")
    stop_timeout: int = Field(30, ge=2, le=120, description="seconds between SIGTERM and SIGKILL when a task stops")
    health_check_grace_seconds: int = Field(30, ge=0, le=3600, description="seconds ECS ignores failing health checks after a task starts")
    environment: dict[str, str] = Field(default_factory=dict, description="plain environment variables (never secrets)")
    secrets: dict[str, str] = Field(default_factory=dict, description="NAME = 'secretsmanager:<name-or-arn>' or 'ssm:/parameter/name'")

    @field_validator("health_check_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError(f"{value!r} must be a URL path starting with '/'")
        return value

    @field_validator("environment", "secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _ENV_VAR_RE.match(name):
                raise ValueError(f"{name!r} is not a valid environment variable name; use letters, digits and '_'")
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for name, ref in value.items():
            if not _SECRET_REF_RE.match(ref):
                raise ValueError(f"{name} = {ref!r} is not a secret reference; use 'secretsmanager:<name-or-arn>' or 'ssm:/parameter/name'")
        return value


class SiteConfig(_Model):
    directory: str = Field("site", description="static files to publish, relative to shipyard.toml")
    content_security_policy: str = Field("default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
                                         description="Content-Security-Policy header on every response")
    hsts_preload: bool = Field(False, description="add preload to Strict-Transport-Security (only once the domain is ready for the preload list)")
    spa_fallback: bool = Field(False, description="serve index.html for paths without a file (single-page apps)")
    public_dotfiles: list[str] = Field([".well-known"], description="files or folders at the site's top whose names start "
                                                                     "with '.' that are published; every other dotfile stays private")

    @field_validator("public_dotfiles")
    @classmethod
    def _dotfiles(cls, value: list[str]) -> list[str]:
        for name in value:
            if not name.startswith(".") or "/" in name or name in (".", ".."):
                raise ValueError(f"{name!r} is not a dotfile name at the site's top (e.g. '.well-known')")
        return value


class SuppressionConfig(_Model):
    id: str = Field(description="rule id (SY-..., AwsSolutions-..., or a cfn-lint id such as W3005)")
    reason: str = Field(min_length=10, description="why the finding does not apply (at least 10 characters)")
    resource: str = Field("*", description="logical id or construct path (glob) it applies to")
    environment: str = Field("*", description="environment it applies to (glob)")


class ChecksConfig(_Model):
    fail_on: Literal["error", "warning"] = Field("error", description="lowest severity that makes `shipyard check` fail")
    max_deregistration_delay: int = Field(30, ge=0, le=3600, description="rollout budget: target deregistration delay (s)")
    max_time_to_healthy: int = Field(30, ge=1, le=3600, description="rollout budget: health-check interval x healthy threshold (s)")
    suppress: list[SuppressionConfig] = Field(default_factory=list, description="[[checks.suppress]] entries: id, reason, resource")


class ReleaseConfig(_Model):
    rollout_timeout: int = Field(900, ge=30, le=7200, description="seconds a release waits for the ECS rollout")
    health_timeout: int = Field(120, ge=5, le=3600, description="seconds the health gate may take")
    health_successes: int = Field(3, ge=1, le=50, description="200 answers in a row the health URL must give")
    migrate: str | None = Field(None, description="command a one-off task of the new image runs: expand migrations before the "
                                                  "rollout, contract migrations after the health gate (docs/database.md)")
    migrate_timeout: int = Field(600, ge=10, le=7200, description="seconds each migration task may run")

    @field_validator("migrate")
    @classmethod
    def _migrate(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                words = shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a command line: {exc}") from None
            if not words:
                raise ValueError("is empty; give the command, e.g. \"python migrate.py\"")
        return value

    @property
    def migrate_command(self) -> list[str] | None:
        return shlex.split(self.migrate) if self.migrate else None


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
# Reserved by RDS or PostgreSQL as master user names.
_RESERVED_DB_USERS = {"postgres", "rdsadmin", "rdsrepladmin", "rds_superuser", "admin", "public", "user"}


class DatabaseConfig(_Model):
    engine: Literal["postgres"] = Field("postgres", description="Amazon RDS for PostgreSQL (the only engine)")
    version: str = Field("16", description=f"PostgreSQL major version, pinned: {', '.join(POSTGRES_MAJOR_VERSIONS)}")
    name: str = Field("app", description="the database the service uses")
    username: str = Field("app_owner", description="master user; its password is made and rotated by RDS in Secrets Manager")
    migrations: str | None = Field(None, description="folder of NNNN_name.expand.sql / NNNN_name.contract.sql files, "
                                                     "relative to shipyard.toml (checked by SY-E801)")
    performance_insights: bool = Field(False, description="Performance Insights (7 days free retention)")
    monitoring_interval: Literal[0, 1, 5, 10, 15, 30, 60] = Field(0, description="Enhanced Monitoring every N seconds (0: off; "
                                                                                 "CloudWatch Logs charges apply)")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in POSTGRES_MAJOR_VERSIONS:
            raise ValueError(f"{value!r} is not a supported major version; pin one of {', '.join(POSTGRES_MAJOR_VERSIONS)}")
        return value

    @field_validator("name", "username")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]{0,62}$", value):
            raise ValueError(f"{value!r} is not valid; use lowercase letters, digits and '_', starting with a letter (at most 63)")
        if value in _RESERVED_DB_USERS:
            raise ValueError(f"{value!r} is reserved by RDS or PostgreSQL; pick another name")
        return value


class EnvironmentSettings(_Model):
    """Per-environment settings; every key may also be set under [defaults]."""

    region: str | None = Field(None, description="AWS region; defaults to app.region")
    cpu: int = Field(256, description="task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384")
    memory: int = Field(512, description="task memory in MiB, a size Fargate accepts for the CPU")
    desired_count: int = Field(2, ge=1, description="tasks running after a release (autoscaling minimum)")
    max_count: int = Field(4, ge=1, le=1000, description="autoscaling maximum")
    cpu_target: int = Field(70, ge=10, le=95, description="average CPU % that autoscaling keeps the service at")
    waf: bool = Field(False, description="attach a WAF web ACL with AWS managed rules to CloudFront")
    waf_rate_limit: int = Field(2000, ge=100, le=2_000_000_000, description="requests per 5 minutes per IP before WAF blocks")
    log_retention_days: int = Field(30, description="CloudWatch Logs retention")
    deletion_protection: bool = Field(False, description="protect stacks, load balancer, repository and bucket from deletion")
    image_retention_count: int = Field(20, ge=1, le=1000, description="images the ECR lifecycle policy keeps")
    container_insights: bool = Field(False, description="ECS Container Insights on the cluster")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        "PriceClass_100", description="CloudFront edge locations used (cheapest by default)")
    oidc_provider_arn: str | None = Field(None, description="existing GitHub OIDC provider to import instead of creating one")
    architecture: Literal["x86_64", "arm64"] | None = Field(None, description="CPU architecture of this environment's tasks (default: service.architecture)")
    spot: bool = Field(False, description="run tasks on Fargate Spot, x86_64 or arm64 on platform 1.4.0 (non-production)")
    awake: str | None = Field(None, description="hours the service runs, e.g. \"Mon-Fri 07:00-20:00 Europe/Berlin\"; "
                              "outside them it scales to zero (non-production)")
    ecs_exec: bool | None = Field(None, description="allow `shipyard exec` into tasks (ECS Exec, sessions logged); "
                                  "default on, off where production")
    budget: int = Field(100, ge=1, le=1_000_000, description="monthly budget in USD: notifications at 80% actual and 100% forecast")
    alert_emails: list[str] = Field(default_factory=list, description="addresses subscribed to the alerts topic")
    slo_target: float = Field(99.9, ge=90, le=99.999, description="availability objective (%) the burn-rate alarms protect")
    latency_p95_ms: int = Field(1000, ge=10, le=60000, description="p95 latency (ms) above which the latency alarm fires")
    database_instance_class: str = Field("db.t4g.micro", description="RDS instance class (with [database])")
    database_storage_gb: int = Field(20, ge=20, le=65536, description="gp3 storage in GiB (with [database])")
    database_backup_days: int = Field(7, ge=1, le=35, description="automated backup retention in days (with [database])")
    database_multi_az: bool = Field(False, description="a standby in a second availability zone (with [database]; doubles its cost)")

    @field_validator("awake")
    @classmethod
    def _awake(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    @field_validator("database_instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        if value not in DB_INSTANCE_MEMORY_GIB:
            raise ValueError(f"{value!r} is not an instance class shipyard knows; use one of {', '.join(DB_INSTANCE_MEMORY_GIB)}")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else _check_region(value)

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in FARGATE_CPU:
            raise ValueError(f"{value} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_CPU))}")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention; use one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", address):
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc_arn(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$", value):
            raise ValueError(f"{value!r} is not a GitHub OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com)")
        return value


_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?!-)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class _EnvironmentInput(EnvironmentSettings):
    account: str = Field(description="12-digit AWS account id")
    domain: str | None = Field(None, description="the environment's own domain, e.g. shop.example.com (a certificate, aliases and DNS records follow)")
    hosted_zone: str | None = Field(None, description="the Route 53 zone the domain's records go in (a suffix of domain); default: the domain itself")
    hosted_zone_id: str | None = Field(None, description="an existing hosted zone in the environment's account; without it shipyard creates hosted_zone")
    www: bool = Field(False, description="also serve www.<domain>, redirected to the domain")
    dns: Literal["route53", "external"] = Field(
        "route53", description="where the domain's DNS lives: route53 (a zone in the environment's account, created or "
                               "hosted_zone_id) or external (another account or provider: deploy prints the records to "
                               "create and waits for them)")

    @field_validator("domain", "hosted_zone")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN_RE.match(value):
            raise ValueError(f"{value!r} is not a domain name; use lowercase labels separated by dots, e.g. shop.example.com")
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone_id(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^Z[A-Z0-9]{1,31}$", value):
            raise ValueError(f"{value!r} is not a Route 53 hosted zone id (Z followed by letters and digits)")
        return value
    production: bool | None = Field(None, description="takes real traffic: changes need --yes, WAF is required, and SY-E101, "
                                                      "SY-E105, SY-E201 and SY-E301 cannot be suppressed; must be set for an "
                                                      "environment named production or prod")

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if not _ACCOUNT_RE.match(value):
            raise ValueError(f"{value!r} is not an AWS account id; use 12 digits")
        return value


class Environment(_EnvironmentInput):
    """One environment with [defaults] applied; what the blueprint builds from.

    Derived from the settings model, so a new setting is one edit there.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)

    name: str
    region: str
    architecture: Literal["x86_64", "arm64"]
    names: naming.Names
    production: bool

    @property
    def is_production(self) -> bool:
        """Marked production in shipyard.toml: changes need --yes, and some rules cannot be suppressed."""
        return self.production

    @property
    def schedule(self) -> AwakeSchedule | None:
        """The awake hours, or None for a service that always runs."""
        return parse_schedule(self.awake) if self.awake else None

    @property
    def domain_names(self) -> tuple[str, ...]:
        """The names viewers use: the domain, and www.<domain> where asked."""
        if not self.domain:
            return ()
        return (self.domain, f"www.{self.domain}") if self.www else (self.domain,)

    @property
    def zone_name(self) -> str | None:
        """The Route 53 zone shipyard writes the domain's records to; None without a domain or with external DNS."""
        return (self.hosted_zone or self.domain) if self.domain and self.dns == "route53" else None


@dataclass(frozen=True)
class Config:
    path: Path
    app: AppConfig
    service: ServiceConfig
    site: SiteConfig
    environments: dict[str, Environment]
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    database: DatabaseConfig | None = None

    @property
    def migrations_directory(self) -> Path | None:
        if self.database is None or self.database.migrations is None:
            return None
        return (self.directory / self.database.migrations).resolve()

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def service_directory(self) -> Path:
        return (self.directory / self.service.directory).resolve()

    @property
    def site_directory(self) -> Path:
        return (self.directory / self.site.directory).resolve()

    def environment(self, name: str) -> Environment:
        try:
            return self.environments[name]
        except KeyError:
            raise UsageError(
                f"environment '{name}'",
                f"is not defined in {self.path.name}; known environments: {', '.join(self.environments)}",
                "add an [environments.<name>] section or pick a known one",
            ) from None

    def neighbours(self, name: str) -> tuple[Environment | None, Environment | None]:
        """(promotes from, promotes to): environments promote in the order shipyard.toml lists them."""
        order = list(self.environments)
        position = order.index(name)
        before = self.environments[order[position - 1]] if position > 0 else None
        after = self.environments[order[position + 1]] if position + 1 < len(order) else None
        return before, after

    def select(self, names: list[str] | tuple[str, ...] | None) -> list[Environment]:
        """The named environments in the order given, or all of them."""
        return [self.environment(n) for n in names] if names else list(self.environments.values())


def _check_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS region with ECS Fargate (e.g. us-east-1, eu-west-1)")
    return value


_SECTIONS: dict[str, type[_Model] | None] = {
    "app": AppConfig,
    "service": ServiceConfig,
    "site": SiteConfig,
    "defaults": EnvironmentSettings,
    "checks": ChecksConfig,
    "release": ReleaseConfig,
    "database": DatabaseConfig,
    "environments": None,
}


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate shipyard.toml; raises ConfigError naming file, key and the fix."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(where, "file not found", "run `shipyard init` or pass --config PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot be read: {exc}") from None
    if text.startswith("\ufeff"):
        raise ConfigError(where, "starts with a UTF-8 byte order mark, which TOML does not allow; save it as UTF-8 without BOM")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION_RE.match(str(exc))
        if match:
            raise ConfigError(where, f"line {match['line']}, column {match['col']}: invalid TOML: {match['msg']}") from None
        raise ConfigError(where, f"invalid TOML: {exc}") from None
    return parse_config(raw, path)


class _Problems:
    """Every problem of one file, collected so validate reports them all in one run."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.errors: list[ConfigError] = []

    def add(self, what: str) -> None:
        self.errors.append(ConfigError(self.where, what))

    def raise_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ConfigErrors(self.errors)


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    problems = _Problems(str(path))
    for key in raw:
        if key not in _SECTIONS:
            problems.add(f"{key}: unknown section; valid sections: {', '.join(_SECTIONS)}")
    for key in ("app", "environments"):
        if key not in raw:
            problems.add(f"[{key}]: required section is missing")

    app = _validate(AppConfig, raw.get("app"), "app", problems) if "app" in raw else None
    service = _validate(ServiceConfig, raw.get("service", {}), "service", problems)
    site = _validate(SiteConfig, raw.get("site", {}), "site", problems)
    checks = _validate(ChecksConfig, raw.get("checks", {}), "checks", problems)
    release = _validate(ReleaseConfig, raw.get("release", {}), "release", problems)
    database = _validate(DatabaseConfig, raw["database"], "database", problems) if "database" in raw else None
    defaults_raw = raw.get("defaults", {})
    defaults_ok = _validate(EnvironmentSettings, defaults_raw, "defaults", problems) is not None

    home = path.parent.resolve()
    if service and not (home / service.directory).resolve().is_relative_to(home):
        problems.add(f"service.directory: {service.directory!r} is outside the directory that holds {path.name}")
    if database and database.migrations:
        migrations = (home / database.migrations).resolve()
        if not migrations.is_relative_to(home):
            problems.add(f"database.migrations: {database.migrations!r} is outside the directory that holds {path.name}")
        elif not migrations.is_dir():
            problems.add(f"database.migrations: {database.migrations!r} is not a folder; create it or fix the path")
    if release and release.migrate and "database" not in raw:
        problems.add("release.migrate: migrations need a [database]; add one or remove migrate")
    if site and not (home / site.directory).resolve().is_relative_to(home):
        problems.add(f"site.directory: {site.directory!r} is outside the directory that holds {path.name}; "
                     "the site must live in the project (e.g. 'site')")
    if service:
        both = set(service.environment) & set(service.secrets)
        if both:
            problems.add(f"service.secrets.{sorted(both)[0]}: also set in service.environment; a variable is either plain or secret")

    environments: dict[str, Environment] = {}
    envs_raw = raw.get("environments")
    if "environments" in raw and (not isinstance(envs_raw, dict) or not envs_raw):
        problems.add("environments: define at least one [environments.<name>] section")
        envs_raw = {}
    for env_name, env_raw in (envs_raw or {}).items():
        key = f"environments.{env_name}"
        if not _NAME_RE.match(env_name) or env_name.endswith("-"):
            problems.add(f"{key}: environment name {env_name!r} is not valid; use [a-z][a-z0-9-]* (e.g. staging)")
            continue
        if not isinstance(env_raw, dict):
            problems.add(f"{key}: must be a table ([{key}])")
            continue
        merged = {**(defaults_raw if defaults_ok else {}), **env_raw}
        origin = {k: (key if k in env_raw else "defaults") for k in merged}
        settings = _validate(_EnvironmentInput, merged, key, problems, origin)
        if settings is not None and app is not None and service is not None:
            environment = _resolve(env_name, settings, app, service, problems, origin)
            if environment is not None:
                environments[env_name] = environment

    _check_shared_accounts(environments, problems)
    _check_domains(environments, problems)
    if database:
        for env in environments.values():
            problem = naming.rds_identifier_problem(env.names.database)
            if problem:
                problems.add(f"app.name: derived RDS instance identifier {env.names.database!r} for environment {env.name} "
                             f"{problem}; shorten or simplify app.name or the environment name")
    if checks:
        _check_suppressions(checks, environments, problems)
    problems.raise_any()
    assert app and service and site and checks and release  # every None above added a problem
    return Config(path=path.resolve(), app=app, service=service, site=site, environments=environments, checks=checks, release=release,
                  database=database)


def _resolve(name: str, s: _EnvironmentInput, app: AppConfig, service: ServiceConfig, problems: _Problems,
             origin: dict[str, str]) -> Environment | None:
    count = len(problems.errors)

    def fail(key: str, what: str) -> None:
        problems.add(f"{origin.get(key, f'environments.{name}')}.{key}: {what}")

    options = fargate_memory_options(s.cpu)
    if s.memory not in options:
        fail("memory", f"Fargate does not accept {s.memory} MiB with cpu {s.cpu}; valid: {_ranges(options)}")
    if s.desired_count > s.max_count:
        fail("desired_count", f"{s.desired_count} is above max_count {s.max_count}; desired_count must be between 1 and max_count")
    production = s.production
    if production is None:
        if name in ("production", "prod"):
            fail("production", f"say whether {name} takes real traffic: production = true (changes need --yes, WAF required) "
                               "or production = false")
        production = False
    if s.domain:
        zone = s.hosted_zone or s.domain
        if not (s.domain == zone or s.domain.endswith("." + zone)):
            fail("hosted_zone", f"{zone!r} is not a suffix of domain {s.domain!r}; the zone must contain the domain (e.g. "
                                f"{'.'.join(s.domain.split('.')[-2:])})")
        if s.dns == "external" and (s.hosted_zone or s.hosted_zone_id):
            fail("dns", "is external, so shipyard manages no zone; remove hosted_zone and hosted_zone_id, or set dns = \"route53\"")
    elif s.hosted_zone or s.hosted_zone_id or s.www or s.dns != "route53":
        fail("domain", "hosted_zone, hosted_zone_id, www and dns need a domain; set domain = \"shop.example.com\"")
    architecture = s.architecture or service.architecture
    if s.spot and production:
        fail("spot", f"{name} is production; Spot reclaims tasks at two minutes' notice, so use it for other environments only")
    if s.awake and production:
        fail("awake", f"{name} is production and takes traffic at any hour; remove awake, or use it for other environments")
    names = naming.Names(app=app.name, environment=name, account=s.account)
    for label, value, problem in (
        ("ECR repository name", names.repository, naming.repository_name_problem(names.repository)),
        ("S3 bucket name", names.site_bucket, naming.bucket_name_problem(names.site_bucket)),
        ("S3 bucket name", names.logs_bucket, naming.bucket_name_problem(names.logs_bucket)),
        ("load balancer name", names.load_balancer, naming.elb_name_problem(names.load_balancer)),
    ):
        if problem:
            problems.add(f"app.name: derived {label} {value!r} for environment {name} {problem}; shorten or simplify app.name or the environment name")
    if len(problems.errors) > count:
        return None
    return Environment(**{**s.model_dump(), "name": name, "region": s.region or app.region, "architecture": architecture,
                          "names": names, "production": production,
                          "ecs_exec": (not production) if s.ecs_exec is None else s.ecs_exec})


def _check_domains(environments: dict[str, Environment], problems: _Problems) -> None:
    owners: dict[str, str] = {}
    for env in environments.values():
        for name in env.domain_names:
            if name in owners:
                problems.add(f"environments.{env.name}.domain: {name} is also {owners[name]}'s; each environment needs its own domain")
            owners.setdefault(name, env.name)


def _check_suppressions(checks: ChecksConfig, environments: dict[str, Environment], problems: _Problems) -> None:
    for number, entry in enumerate(checks.suppress):
        if entry.id not in UNSUPPRESSABLE_IN_PRODUCTION:
            continue
        hit = [e.name for e in environments.values() if e.production and fnmatch.fnmatchcase(e.name, entry.environment)]
        if hit:
            problems.add(f"checks.suppress[{number}]: {entry.id} ({UNSUPPRESSABLE_IN_PRODUCTION[entry.id]}) cannot be "
                         f"suppressed in production environment {', '.join(hit)}; fix the cause, or set environment = "
                         "to the environments that are not production")


def _check_shared_accounts(environments: dict[str, Environment], problems: _Problems) -> None:
    # IAM allows one OIDC provider per URL in an account: two environments in
    # one account must not both create it.
    creators: dict[str, str] = {}
    for env in environments.values():
        if env.oidc_provider_arn is None:
            if env.account in creators:
                problems.add(
                    f"environments.{env.name}.oidc_provider_arn: {creators[env.account]} and {env.name} share account "
                    f"{env.account} and both would create the GitHub OIDC provider; set oidc_provider_arn = "
                    f"'arn:aws:iam::{env.account}:oidc-provider/token.actions.githubusercontent.com' on {env.name}",
                )
            creators[env.account] = env.name


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 3:
        return ", ".join(map(str, values))
    return f"{values[0]} to {values[-1]} in steps of {values[1] - values[0]}"


def _validate(model: type[_Model], data: Any, section: str, problems: _Problems, origin: dict[str, str] | None = None):
    """The validated model, or None after adding one problem per invalid key."""
    if not isinstance(data, dict):
        problems.add(f"{section}: must be a table ([{section}])")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            top = loc[0] if loc else ""
            prefix = (origin or {}).get(top, section)
            key = ".".join([prefix, *loc]) if loc else prefix
            problems.add(f"{key}: {_describe(error, model)}")
        return None


_TYPE_NAMES = {"int_type": "an integer", "bool_type": "true or false", "string_type": "a string",
               "dict_type": "a table", "int_from_float": "an integer"}


def _describe(error: dict[str, Any], model: type[_Model]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        valid = model.model_fields if len(error["loc"]) == 1 else {}
        return "unknown key" + (f"; valid keys: {', '.join(valid)}" if valid else "")
    if kind == "missing":
        field = model.model_fields.get(str(error["loc"][0]))
        return "required key is missing" + (f" ({field.description})" if field and field.description else "")
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {error['input']!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        field = model.model_fields[str(error["loc"][0])]
        bounds = {type(m).__name__: m for m in field.metadata}
        low = getattr(bounds.get("Ge"), "ge", None)
        high = getattr(bounds.get("Le"), "le", None)
        if low is not None and high is not None:
            return f"{error['input']} is out of range; use {low} to {high}"
        return f"{error['input']} is out of range; use at least {low}" if low is not None else f"{error['input']} is out of range; use at most {high}"
    if kind == "string_too_short":
        return f"{error['input']!r} is too short; give at least {error['ctx']['min_length']} characters"
    if kind == "list_type":
        return f"expected a list of tables ([[...]]), got {error['input']!r}"
    if kind == "literal_error":
        return f"{error['input']!r} is not valid; {error['msg'].replace('Input should be', 'use')}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return error["msg"]


_PLACEHOLDERS: dict[str, dict[str, Any]] = {"app": {"name": "app", "region": "us-east-1", "repository": "owner/repo"},
                                            "environment": {"account": "111111111111"}}


def answer_problem(section: str, key: str, value: Any) -> str | None:
    """Why one value of shipyard.toml would be refused (the rules of load_config), or None: init asks with it."""
    model: type[_Model] = AppConfig if section == "app" else _EnvironmentInput
    try:
        model.model_validate({**_PLACEHOLDERS[section], key: value})
    except ValidationError as exc:
        for error in exc.errors():
            if tuple(error["loc"][:1]) in ((key,), ()):
                return _describe(error, model)
    return None


def reference() -> list[tuple[str, str, str]]:
    """(key, default, description) rows for the README's config reference."""
    sections: list[tuple[str, type[_Model]]] = [("app", AppConfig), ("service", ServiceConfig), ("site", SiteConfig),
                                                ("environments.<name>", _EnvironmentInput), ("checks", ChecksConfig),
                                                ("release", ReleaseConfig)]
    rows = []
    for section, model in sections:
        # Stable sort: the required account first, then the settings in declaration order.
        for name, info in sorted(model.model_fields.items(), key=lambda item: not item[1].is_required()):
            default = "required" if info.is_required() else f"`{info.get_default(call_default_factory=True)!r}`"
            rows.append((f"{section}.{name}", default, info.description or ""))
    return rows


def reference_markdown() -> str:
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{key}` | {default} | {text} |" for key, default, text in reference()]
    return "\n".join(lines) + "\n"
