"""The loaded configuration (Config) and the one list of shipyard.toml's sections (SECTIONS) that loading, the
README's reference and `init` all read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from shipyard.config.environment import Environment, EnvironmentInput, EnvironmentSettings
from shipyard.config.models import AppConfig, ChecksConfig, DatabaseConfig, PreviewsConfig, ReleaseConfig, ServiceConfig, SiteConfig, _Model
from shipyard.config.workloads import JobConfig, TopicConfig, WorkloadConfig
from shipyard.errors import UsageError


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
    services: dict[str, WorkloadConfig] = field(default_factory=dict)  # workloads beside [service], by name
    jobs: dict[str, JobConfig] = field(default_factory=dict)
    topics: dict[str, TopicConfig] = field(default_factory=dict)  # SNS topics that fan out to workers, by name
    previews: PreviewsConfig | None = None  # [previews], where the file has it

    @property
    def workloads(self) -> dict[str, WorkloadConfig | JobConfig]:
        """Every workload beside [service], each built from its own directory: services, then jobs."""
        return {**self.services, **self.jobs}

    def kind_of(self, name: str) -> str:
        """web, backend, worker or job."""
        return "job" if name in self.jobs else self.services[name].kind

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


@dataclass(frozen=True)
class Section:
    """One table of shipyard.toml: its key, the model that validates it, and how the reference lists its keys."""

    key: str
    model: type[_Model]
    required: bool = False
    written_only: bool = False  # exists only where the file has it ([database]); other sections take their defaults
    named: bool = False  # a table of named tables ([services.<name>]), each validated by the model
    listed_as: str | None = ""  # the keys' prefix in the reference ("" = the key; None = listed under another section)

    @property
    def prefix(self) -> str | None:
        return self.key if self.listed_as == "" else self.listed_as


SECTIONS = (
    Section("app", AppConfig, required=True),
    Section("service", ServiceConfig),
    Section("site", SiteConfig),
    Section("services", WorkloadConfig, named=True, listed_as="services.<name>"),
    Section("jobs", JobConfig, named=True, listed_as="jobs.<name>"),
    Section("topics", TopicConfig, named=True, listed_as="topics.<name>"),
    Section("database", DatabaseConfig, written_only=True),
    Section("environments", EnvironmentInput, required=True, listed_as="environments.<name>"),
    # Every key of environments.<name> but the environment's own (account, domain, production) may be set here.
    Section("defaults", EnvironmentSettings, listed_as=None),
    Section("checks", ChecksConfig),
    Section("release", ReleaseConfig),
    Section("previews", PreviewsConfig, written_only=True),
)
