"""shipyard.toml's sections other than the environments: every key with its default and meaning, and its rules.

The models are frozen and strict. Rules that need more than one key, or the file's place on disk, are in
cross_checks.py; an environment's keys are in environment.py.
"""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from shipyard.config.catalogue import (
    FARGATE_CPU,
    POSTGRES_MAJOR_VERSIONS,
    RESERVED_DB_USERS,
    known_regions,
    looks_like_credential,
)
from shipyard.schedule import AwakeSchedule, parse_schedule

DEFAULT_CONFIG = "shipyard.toml"

NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REPOSITORY_RE = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_ENV_VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An SSM parameter's name with or without its leading slash: "/a/b" and "GH_TOKEN" are both names SSM takes (and
# Copilot's manifests use both); CDK turns either into the parameter's ARN.
_SECRET_REF_RE = re.compile(r"^(secretsmanager:[A-Za-z0-9/_+=.@:-]+|ssm:/?[A-Za-z0-9_.-][A-Za-z0-9/_.-]*)$")

# What an environment marked production may never run without, whatever [[checks.suppress]] says: a web ACL,
# a private bucket, a load balancer only CloudFront reaches, a deploy role only its own GitHub environment assumes.
UNSUPPRESSABLE_IN_PRODUCTION = {"SY-E105": "production without a WAF web ACL", "SY-E101": "a public site bucket",
                                "SY-E201": "a load balancer reachable from outside CloudFront",
                                "SY-E301": "a deploy role trusted beyond this repository's environment"}


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
        if not NAME_RE.match(value) or value.endswith("-"):
            raise ValueError(f"{value!r} is not valid; use lowercase letters, digits and hyphens, starting with a letter")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return check_region(value)

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


def _variable_names(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not _ENV_VAR_RE.match(name):
            raise ValueError(f"{name!r} is not a valid environment variable name; use letters, digits and '_'")
    return value


def _no_credentials(value: dict[str, str]) -> dict[str, str]:
    for name, literal in value.items():
        if looks_like_credential(name, literal):
            raise ValueError(f"{name} looks like a credential, and a plain value is visible to anyone who can describe the "
                             "task definition (SY-E501); move it to the secrets table beside it (e.g. [service.secrets]) as 'secretsmanager:<name>' or "
                             "'ssm:/parameter/name'")
    return value


SECRETS_HELP = ("NAME = 'secretsmanager:<name-or-arn>' or 'ssm:/parameter/name'; {environment} in a name stands for the "
                "environment's name")
# A secret's name may hold the environment's name where each environment has its own (as Copilot names the secrets
# `copilot secret init` makes: /copilot/<app>/<env>/secrets/<name>).
ENVIRONMENT_PLACEHOLDER = "{environment}"


def secret_in(reference: str, environment: str) -> str:
    """A secret reference as one environment reads it."""
    return reference.replace(ENVIRONMENT_PLACEHOLDER, environment)


def _secret_references(value: dict[str, str]) -> dict[str, str]:
    for name, ref in value.items():
        if not _SECRET_REF_RE.match(secret_in(ref, "env")):
            raise ValueError(f"{name} = {ref!r} is not a secret reference; use 'secretsmanager:<name-or-arn>' or 'ssm:/parameter/name' "
                             f"(where each environment has its own, {ENVIRONMENT_PLACEHOLDER} in the name stands for its name)")
    return value


def _url_path(value: str) -> str:
    if not value.startswith("/") or " " in value:
        raise ValueError(f"{value!r} must be a URL path starting with '/'")
    return value


def _fargate_cpu(value: int) -> int:
    if value not in FARGATE_CPU:
        raise ValueError(f"{value} is not a Fargate CPU size; use one of {', '.join(map(str, FARGATE_CPU))}")
    return value


UrlPath = Annotated[str, AfterValidator(_url_path)]
FargateCpu = Annotated[int, AfterValidator(_fargate_cpu)]
# A container's environment: plain variables (no credential-looking values) and secrets (references only).
PlainVariables = Annotated[dict[str, str], AfterValidator(_variable_names), AfterValidator(_no_credentials)]
SecretVariables = Annotated[dict[str, str], AfterValidator(_variable_names), AfterValidator(_secret_references)]


class ServiceConfig(_Model):
    directory: str = Field("service", description="the service's build context (its Dockerfile), relative to shipyard.toml")
    command: list[str] | None = Field(None, description="the command the image runs, if not its Dockerfile's CMD")
    port: int = Field(8000, ge=1024, le=65535, description="port the container listens on (unprivileged, so the image can run as non-root)")
    health_check_path: UrlPath = Field("/healthz", description="path the load balancer and the release health gate request")
    architecture: Literal["x86_64", "arm64"] = Field("arm64", description="CPU architecture of the image and the tasks")
    stop_timeout: int = Field(30, ge=2, le=120, description="seconds between SIGTERM and SIGKILL when a task stops")
    health_check_grace_seconds: int = Field(30, ge=0, le=3600, description="seconds ECS ignores failing health checks after a task starts")
    environment: PlainVariables = Field(default_factory=dict, description="plain environment variables (never secrets)")
    secrets: SecretVariables = Field(default_factory=dict, description=SECRETS_HELP)
    publishes: list[str] = Field(default_factory=list, description="the workers whose queues it may send messages to ([services.<name>] "
                                                                   "of kind worker), each queue's URL in SHIPYARD_QUEUE_<NAME>_URL, and "
                                                                   "the [topics.<name>] it may publish to, each ARN in SHIPYARD_TOPIC_<NAME>_ARN")
    calls: list[str] = Field(default_factory=list, description="the backend services it calls by name ([services.<name>] of kind "
                                                               "backend), at http://<name>:<port>; nothing else is reachable")


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


PREVIEW_AWAKE = "Mon-Fri 07:00-19:00 UTC"  # a working day, wherever the team is: a preview is for people to look at
ALWAYS = "always"


class PreviewsConfig(_Model):
    """[previews]: short-lived environments per pull request inside a base environment (docs/previews.md)."""

    base: str = Field("staging", description="the environment whose account, network, load balancer, distribution and "
                                              "database server previews share; not a production one")
    cap: int = Field(5, ge=1, le=20, description="previews that may exist at once; the oldest must go before another")
    expires_after_days: int = Field(3, ge=1, le=30, description="days after its last deploy a preview expires "
                                                                 "(`shipyard preview prune` destroys it)")
    awake: str = Field(PREVIEW_AWAKE, description="hours previews run (their tasks scaled to 0 outside them), e.g. "
                                                  f"\"{PREVIEW_AWAKE}\"; \"always\" for no schedule")

    @field_validator("awake")
    @classmethod
    def _awake(cls, value: str) -> str:
        if value != ALWAYS:
            parse_schedule(value)
        return value

    @property
    def schedule(self) -> AwakeSchedule | None:
        """Previews' awake hours, or None where they always run."""
        return None if self.awake == ALWAYS else parse_schedule(self.awake)


class DatabaseConfig(_Model):
    engine: Literal["postgres", "aurora-postgresql"] = Field(
        "postgres", description="postgres: an Amazon RDS for PostgreSQL instance; aurora-postgresql: an Aurora PostgreSQL "
                                "Serverless v2 cluster (sized by database_min_capacity and database_max_capacity)")
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
    def _identifier(cls, value: str, info: ValidationInfo) -> str:
        # A master user name is 1 to 16 letters, digits or '_' (RDS API reference, CreateDBInstance and
        # CreateDBCluster, MasterUsername); a database name up to PostgreSQL's 63.
        longest = 16 if info.field_name == "username" else 63
        if not re.match(rf"^[a-z][a-z0-9_]{{0,{longest - 1}}}$", value):
            raise ValueError(f"{value!r} is not valid; use lowercase letters, digits and '_', starting with a letter "
                             f"(at most {longest})")
        if value in RESERVED_DB_USERS:
            raise ValueError(f"{value!r} is reserved by RDS or PostgreSQL; pick another name")
        return value


def check_region(value: str) -> str:
    if value not in known_regions():
        raise ValueError(f"{value!r} is not an AWS region with ECS Fargate (e.g. us-east-1, eu-west-1)")
    return value
