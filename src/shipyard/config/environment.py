"""An environment's keys ([environments.<name>], with [defaults] under them) and the resolved Environment that the
blueprint builds from: one settings model, so a new setting is one edit."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from shipyard import naming
from shipyard.config.catalogue import ACU_MAX, ACU_STEP, DB_INSTANCE_MEMORY_GIB, LOG_RETENTION_DAYS
from shipyard.config.models import _ACCOUNT_RE, FargateCpu, _Model, check_region
from shipyard.config.workloads import WorkloadSize
from shipyard.schedule import AwakeSchedule, parse_schedule

# Messages one task works through between two looks of its autoscaling; a queue longer than this per task adds tasks.
DEFAULT_BACKLOG_PER_TASK = 10


class EnvironmentSettings(_Model):
    """Per-environment settings; every key may also be set under [defaults]."""

    region: str | None = Field(None, description="AWS region; defaults to app.region")
    cpu: FargateCpu = Field(256, description="task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384")
    memory: int = Field(512, description="task memory in MiB, a size Fargate accepts for the CPU")
    desired_count: int = Field(2, ge=1, description="tasks running after a release (autoscaling minimum)")
    max_count: int = Field(4, ge=1, le=1000, description="autoscaling maximum")
    cpu_target: int = Field(70, ge=10, le=95, description="average CPU % that autoscaling keeps the service at")
    waf: bool = Field(False, description="attach a WAF web ACL with AWS managed rules to CloudFront")
    waf_rate_limit: int = Field(2000, ge=100, le=2_000_000_000, description="requests per 5 minutes per IP before WAF blocks")
    log_retention_days: int = Field(30, description="CloudWatch Logs retention")
    deletion_protection: bool = Field(False, description="protect stacks, load balancer, repository and bucket from deletion")
    image_retention_count: int = Field(20, ge=1, le=1000, description="images the ECR lifecycle policy keeps")
    container_insights: bool | None = Field(None, description="ECS Container Insights (standard level) on the cluster; "
                                            "default on where production, off elsewhere")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        "PriceClass_100", description="CloudFront edge locations used (cheapest by default)")
    oidc_provider_arn: str | None = Field(None, description="existing GitHub OIDC provider to import instead of creating one")
    architecture: Literal["x86_64", "arm64"] | None = Field(None, description="CPU architecture of this environment's tasks (default: service.architecture)")
    spot: bool = Field(False, description="run tasks on Fargate Spot, x86_64 or arm64 on platform 1.4.0 (non-production)")
    awake: str | None = Field(None, description="hours the service runs, e.g. \"Mon-Fri 07:00-20:00 Europe/Berlin\"; "
                              "outside them it scales to zero (non-production)")
    edge_logs: bool | None = Field(None, description="CloudFront's access logs of every viewer request (standard "
                                   "logging v2, to CloudWatch Logs in us-east-1, kept log_retention_days); default on "
                                   "where production")
    wake_hours: float = Field(2, ge=0.05, le=24, description="with awake: how long a release outside the awake hours "
                              "keeps the environment up before it sleeps again (unless the schedule wakes it first)")
    ecs_exec: bool | None = Field(None, description="allow `shipyard exec` into tasks (ECS Exec, sessions logged); "
                                  "default on, off where production")
    budget: int = Field(100, ge=1, le=1_000_000, description="monthly budget in USD: notifications at 80% actual and 100% forecast")
    alert_emails: list[str] = Field(default_factory=list, description="addresses subscribed to the alerts topic")
    slo_target: float = Field(99.9, ge=90, le=99.999, description="availability objective (%) the burn-rate alarms protect")
    latency_p95_ms: int = Field(1000, ge=10, le=60000, description="p95 latency (ms) above which the latency alarm fires")
    database_instance_class: str = Field("db.t4g.micro", description="RDS instance class (with [database])")
    database_storage_gb: int = Field(20, ge=20, le=65536, description="gp3 storage in GiB (with [database])")
    database_backup_days: int = Field(7, ge=1, le=35, description="automated backup retention in days (with [database])")
    database_multi_az: bool = Field(False, description="a standby in a second availability zone (with [database]; doubles its cost; "
                                    "on Aurora a reader instance that takes over)")
    database_min_capacity: float = Field(0.5, ge=0, le=ACU_MAX, description="Aurora Serverless v2 minimum ACUs (with engine = "
                                         "\"aurora-postgresql\"); 0 pauses the database after 5 idle minutes")
    database_max_capacity: float = Field(2, ge=1, le=ACU_MAX, description="Aurora Serverless v2 maximum ACUs (with engine = "
                                         "\"aurora-postgresql\")")
    services: dict[str, WorkloadSize] = Field(default_factory=dict, description="sizes of [services.<name>] here: "
                                              "[environments.<env>.services.<name>] with cpu, memory, desired_count, max_count, "
                                              "backlog_per_task (default: this environment's cpu and memory)")
    jobs: dict[str, WorkloadSize] = Field(default_factory=dict, description="sizes of [jobs.<name>] here: cpu and memory")

    @field_validator("awake")
    @classmethod
    def _awake(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schedule(value)
        return value

    @field_validator("database_min_capacity", "database_max_capacity")
    @classmethod
    def _capacity(cls, value: float) -> float:
        if value % ACU_STEP:
            raise ValueError(f"{value:g} is not an Aurora capacity; use a multiple of {ACU_STEP} ACU")
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
        return None if value is None else check_region(value)

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


class AdoptedResources(_Model):
    """[environments.<env>.adopted]: resources `shipyard adopt` moved into this environment's stacks from another
    tool's (Copilot's), which keep their own names: CloudFormation imports a resource as it is, and renaming it would
    replace it, and its data with it. `adopt` writes this table; an adopted resource is retained if its stack goes."""

    repositories: dict[str, str] = Field(default_factory=dict, description="ECR repositories by workload ('service' for "
                                                                            "[service]): the images it had stay")
    log_groups: dict[str, str] = Field(default_factory=dict, description="log groups by workload ('service' for [service])")
    site_bucket: str | None = Field(None, description="the site's S3 bucket")
    database: str | None = Field(None, description="the Aurora cluster [database] is (its rows stay)")
    database_writer: str | None = Field(None, description="the cluster's writer instance")
    database_subnet_group: str | None = Field(None, description="the cluster's DB subnet group (the cluster is bound to it)")

    def entries(self) -> tuple[tuple[tuple[str, str], str], ...]:
        """As naming.Names takes them: ((kind, workload), name), [service] under its workload name."""
        def workload(key: str) -> str:
            return naming.PRIMARY_SERVICE if key == "service" else key

        entries = [(("repository", workload(k)), v) for k, v in self.repositories.items()]
        entries += [(("log_group", workload(k)), v) for k, v in self.log_groups.items()]
        entries += [((kind, naming.PRIMARY_SERVICE), name) for kind, name in (
            ("site_bucket", self.site_bucket), ("database", self.database), ("database_writer", self.database_writer),
            ("database_subnet_group", self.database_subnet_group)) if name]
        return tuple(entries)


_VPC_RE, _SUBNET_RE = re.compile(r"^vpc-[0-9a-f]{8,17}$"), re.compile(r"^subnet-[0-9a-f]{8,17}$")
_ZONE_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")


class ExistingSubnet(_Model):
    """A subnet of an existing VPC as `aws ec2 describe-subnets` shows it: what the templates need of it."""

    id: str = Field(description="SubnetId (subnet-...)")
    zone: str = Field(description="AvailabilityZone, e.g. eu-west-1a")
    cidr: str = Field(description="CidrBlock, e.g. 10.0.2.0/24")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _SUBNET_RE.match(value):
            raise ValueError(f"{value!r} is not a subnet id (subnet- and 8 or 17 hex digits)")
        return value

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _ZONE_RE.match(value):
            raise ValueError(f"{value!r} is not an availability zone such as eu-west-1a")
        return value

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 range such as 10.0.2.0/24") from None
        return value


class ExistingNetwork(_Model):
    """[environments.<env>.network]: a VPC the environment runs in instead of one of its own (a VPC another tool made,
    such as the one a Copilot environment imported, where its database stays). shipyard makes nothing in it but its
    security groups, its internal load balancer and database in the private subnets, and a flow log of rejected
    traffic. Each subnet is written as `aws ec2 describe-subnets` shows it (`shipyard import copilot --aws` reads them)."""

    vpc_id: str = Field(description="the VPC's id (vpc-...)")
    public_subnets: list[ExistingSubnet] = Field(
        description="subnets routed to an internet gateway ({id, zone, cidr} each), in two availability zones or more: the "
                    "tasks (public IPs; no NAT gateway)")
    private_subnets: list[ExistingSubnet] = Field(
        description="subnets without a route to the internet ({id, zone, cidr} each), in two availability zones or more: "
                    "the internal load balancer, which admits CloudFront's VPC origin from their ranges alone, and the database")

    @field_validator("vpc_id")
    @classmethod
    def _vpc(cls, value: str) -> str:
        if not _VPC_RE.match(value):
            raise ValueError(f"{value!r} is not a VPC id (vpc- and 8 or 17 hex digits)")
        return value

    @field_validator("public_subnets", "private_subnets")
    @classmethod
    def _two_zones(cls, value: list[ExistingSubnet]) -> list[ExistingSubnet]:
        if len({s.zone for s in value}) < 2:
            raise ValueError("list subnets in two availability zones or more (a load balancer needs two)")
        if len({s.id for s in value}) != len(value):
            raise ValueError("a subnet is listed twice")
        return value

    @model_validator(mode="after")
    def _apart(self) -> ExistingNetwork:
        shared = sorted({s.id for s in self.public_subnets} & {s.id for s in self.private_subnets})
        if shared:
            raise ValueError(f"{shared[0]} is listed as public and private; a subnet is one or the other")
        return self


class EnvironmentInput(EnvironmentSettings):
    account: str = Field(description="12-digit AWS account id")
    domain: str | None = Field(None, description="the environment's own domain, e.g. shop.example.com (a certificate, aliases and DNS records follow)")
    hosted_zone: str | None = Field(None, description="the Route 53 zone the domain's records go in (a suffix of domain); default: the domain itself")
    hosted_zone_id: str | None = Field(None, description="an existing hosted zone in the environment's account; without it shipyard creates hosted_zone")
    www: bool = Field(False, description="also serve www.<domain>, redirected to the domain")
    adopted: AdoptedResources | None = Field(None, description="resources moved in by `shipyard adopt`, by their own names "
                                                               "(written by adopt)")
    network: ExistingNetwork | None = Field(None, description="an existing VPC to run in ([environments.<env>.network] with "
                                                              "vpc_id, public_subnets, private_subnets); default: a VPC of its own")
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

    @model_validator(mode="after")
    def _capacity_range(self) -> EnvironmentInput:
        # Here, not on the settings: [defaults] may set one end and the environment the other.
        if self.database_min_capacity > self.database_max_capacity:
            raise ValueError(f"database_min_capacity ({self.database_min_capacity:g}) is above database_max_capacity "
                             f"({self.database_max_capacity:g}); the minimum ACUs must not exceed the maximum")
        return self


PREVIEW_CPU, PREVIEW_MEMORY = 256, 512  # Fargate's smallest task (0.25 vCPU, 0.5 GB)
PREVIEW_LOG_RETENTION_DAYS = 3


class Environment(EnvironmentInput):
    """One environment with [defaults] applied; what the blueprint builds from.

    Derived from the settings model, so a new setting is one edit there.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True)

    name: str
    region: str
    architecture: Literal["x86_64", "arm64"]
    names: naming.Names
    production: bool
    # [previews]' base with a domain: each preview's host is <name>.<preview_domain> (set by the loader).
    preview_domain: str | None = None

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
    def certified_names(self) -> tuple[str, ...]:
        """The names the distribution answers for and its certificate covers: the domain's, and previews' hosts."""
        return (*self.domain_names, *((f"*.{self.preview_domain}",) if self.preview_domain else ()))

    def preview(self, name: str) -> Environment:
        """A preview environment inside this one (a [previews] base): named <base>-pv-<name>, in this account and
        region, every workload once on Fargate's smallest size, on Spot where this environment is, awake always, its
        logs kept 3 days, nothing retained (docs/previews.md)."""
        environment = naming.preview_environment(self.name, name)
        return self.model_copy(update={
            "name": environment, "names": naming.Names(self.names.app, environment, self.account), "production": False,
            "preview_domain": None,
            "cpu": PREVIEW_CPU, "memory": PREVIEW_MEMORY, "desired_count": 1, "max_count": 1, "services": {}, "jobs": {},
            "deletion_protection": False, "log_retention_days": PREVIEW_LOG_RETENTION_DAYS, "awake": None, "waf": False,
            "ecs_exec": False, "adopted": None})

    def workload_view(self, name: str) -> Environment:
        """This environment as one workload beside the primary service sees it: its names are the workload's own
        (repository, image parameter, service, task family), everything else is the environment's."""
        return self.model_copy(update={"names": self.names.workload(name)})

    def workload_size(self, section: str, name: str) -> tuple[int, int, int, int]:
        """A workload's cpu, memory, desired_count and max_count here: its own [environments.<env>.<section>.<name>]
        over this environment's."""
        own = (self.services if section == "services" else self.jobs).get(name)
        if own is None:
            return self.cpu, self.memory, self.desired_count, self.max_count
        return (own.cpu or self.cpu, own.memory or self.memory,
                self.desired_count if own.desired_count is None else own.desired_count, own.max_count or self.max_count)

    def backlog_per_task(self, name: str) -> int:
        """The queued messages per running task a worker's autoscaling keeps (its backlog_per_task here, else 10)."""
        own = self.services.get(name)
        return own.backlog_per_task if own is not None and own.backlog_per_task is not None else DEFAULT_BACKLOG_PER_TASK

    @property
    def origin_domain(self) -> str | None:
        """The name CloudFront reaches the load balancer by over TLS (origin.<domain>); None without a domain, where the
        hop stays HTTP inside the VPC (docs/decisions.md §27)."""
        return f"origin.{self.domain}" if self.domain else None

    @property
    def zone_name(self) -> str | None:
        """The Route 53 zone shipyard writes the domain's records to; None without a domain or with external DNS."""
        return (self.hosted_zone or self.domain) if self.domain and self.dns == "route53" else None
