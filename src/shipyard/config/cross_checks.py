"""The checks of shipyard.toml that need more than one key, or the disk: directories inside the project, each
environment resolved with its derived AWS names, shared accounts and domains, suppressions production cannot have,
and what the deploy policy gate would refuse that the file alone shows. Every problem is collected (Problems), so
one run reports them all."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipyard import naming
from shipyard.config.catalogue import fargate_memory_options
from shipyard.config.environment import Environment, EnvironmentInput
from shipyard.config.models import UNSUPPRESSABLE_IN_PRODUCTION, AppConfig, ChecksConfig, ServiceConfig
from shipyard.config.sections import Config
from shipyard.config.workloads import JobConfig, WorkloadConfig
from shipyard.errors import ConfigError, ConfigErrors


class Problems:
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


def check_directories(raw: dict[str, Any], tables: dict[str, Any], path: Path, problems: Problems) -> None:
    """The service, site and migrations folders must lie inside the project; the site and migrations must exist."""
    home = path.parent.resolve()
    service, site, database, release = tables.get("service"), tables.get("site"), tables.get("database"), tables.get("release")
    if service and not (home / service.directory).resolve().is_relative_to(home):
        problems.add(f"service.directory: {service.directory!r} is outside the directory that holds {path.name}")
    if site:
        directory = (home / site.directory).resolve()
        if not directory.is_relative_to(home):
            problems.add(f"site.directory: {site.directory!r} is outside the directory that holds {path.name}; "
                         "the site must live in the project (e.g. 'site')")
        elif not directory.is_dir():
            problems.add(f"site.directory: {site.directory!r} is not a folder next to {path.name}; create it with the site's "
                         "files (an index.html at least), or point site.directory at them")
    if database and database.migrations:
        migrations = (home / database.migrations).resolve()
        if not migrations.is_relative_to(home):
            problems.add(f"database.migrations: {database.migrations!r} is outside the directory that holds {path.name}")
        elif not migrations.is_dir():
            problems.add(f"database.migrations: {database.migrations!r} is not a folder; create it or fix the path")
    if release and release.migrate and "database" not in raw:
        problems.add("release.migrate: migrations need a [database]; add one or remove migrate")
    if service:
        both = set(service.environment) & set(service.secrets)
        if both:
            problems.add(f"service.secrets.{sorted(both)[0]}: also set in service.environment; a variable is either plain or secret")


def resolve_environment(name: str, s: EnvironmentInput, app: AppConfig, service: ServiceConfig, problems: Problems,
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
    names = naming.Names(app=app.name, environment=name, account=s.account, adopted=s.adopted.entries() if s.adopted else ())
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
                          "ecs_exec": (not production) if s.ecs_exec is None else s.ecs_exec,
                          "container_insights": production if s.container_insights is None else s.container_insights,
                          "edge_logs": production if s.edge_logs is None else s.edge_logs})


def check_domains(environments: dict[str, Environment], problems: Problems) -> None:
    owners: dict[str, str] = {}
    for env in environments.values():
        for name in env.domain_names:
            if name in owners:
                problems.add(f"environments.{env.name}.domain: {name} is also {owners[name]}'s; each environment needs its own domain")
            owners.setdefault(name, env.name)


def check_suppressions(checks: ChecksConfig, environments: dict[str, Environment], problems: Problems) -> None:
    for number, entry in enumerate(checks.suppress):
        if entry.id not in UNSUPPRESSABLE_IN_PRODUCTION:
            continue
        hit = [e.name for e in environments.values() if e.production and fnmatch.fnmatchcase(e.name, entry.environment)]
        if hit:
            problems.add(f"checks.suppress[{number}]: {entry.id} ({UNSUPPRESSABLE_IN_PRODUCTION[entry.id]}) cannot be "
                         f"suppressed in production environment {', '.join(hit)}; fix the cause, or set environment = "
                         "to the environments that are not production")


def check_shared_accounts(environments: dict[str, Environment], problems: Problems) -> None:
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


def refusals(config: Config) -> list[str]:
    """What the deploy policy gate would refuse that shipyard.toml alone shows: validate and synth say it (exit 4)
    before anything is synthesized, deployed or checked."""
    return [f"environments.{env.name}.waf: {env.name} is production (production = true) and needs waf = true; "
            "SY-E105 refuses a production distribution without a web ACL and cannot be suppressed there"
            for env in config.environments.values() if env.production and not env.waf]


def check_sizes(environment: Environment, services: dict[str, WorkloadConfig], jobs: dict[str, JobConfig],
                declared: dict[str, set[str]], add: Callable[[str], None]) -> None:
    """An environment's per-workload sizes name existing workloads, keys that fit their kind, and sizes Fargate takes;
    so do its adopted resources."""
    if environment.adopted is not None:
        known = {"service", *declared["services"], *declared["jobs"]}
        for field in ("repositories", "log_groups"):
            for name in getattr(environment.adopted, field):
                if name not in known:
                    add(f"environments.{environment.name}.adopted.{field}.{name}: no workload is called {name!r}; known: "
                        f"{', '.join(sorted(known))}")
    for section, table in (("services", services), ("jobs", jobs)):
        for name, size in (environment.services if section == "services" else environment.jobs).items():
            key = f"environments.{environment.name}.{section}.{name}"
            workload = table.get(name)
            if name not in declared[section]:
                add(f"{key}: there is no [{section}.{name}]; known: {', '.join(sorted(declared[section])) or 'none'}")
                continue
            if workload is None:  # declared, but its own table is invalid (reported already)
                continue
            kind = getattr(workload, "kind", "job")
            if kind == "job" and (size.desired_count is not None or size.max_count is not None):
                add(f"{key}: a job runs one task per schedule; desired_count and max_count are for services")
            if size.backlog_per_task is not None and kind != "worker":
                add(f"{key}.backlog_per_task: only a worker scales on its queue's backlog")
            cpu, memory, desired_count, max_count = environment.workload_size(section, name)
            if memory not in fargate_memory_options(cpu):
                add(f"{key}.memory: Fargate does not accept {memory} MiB with cpu {cpu}")
            if kind in ("web", "backend") and desired_count < 1:
                add(f"{key}.desired_count: a {kind} service serves requests, so it needs at least 1 task (only a worker may idle at 0)")
            if kind != "job" and desired_count > max_count:
                add(f"{key}.desired_count: {desired_count} is above max_count {max_count} (each, where not set here, is "
                    f"environments.{environment.name}'s)")
