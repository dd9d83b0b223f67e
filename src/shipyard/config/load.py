"""shipyard.toml -> a validated, frozen Config: the first stage of the data flow, and its one gate.

Every problem becomes one line naming the file, the key and what would be valid, and every problem of a file is
reported in one run (ConfigErrors), before anything else runs. Global values under [defaults] are overridden by
each [environments.<name>]. Each key's own rules are the models'; what needs several keys or the disk is in
cross_checks.py.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from shipyard import naming
from shipyard.config.cross_checks import (
    Problems,
    check_directories,
    check_domains,
    check_shared_accounts,
    check_sizes,
    check_suppressions,
    resolve_environment,
)
from shipyard.config.environment import Environment, EnvironmentInput, EnvironmentSettings
from shipyard.config.messages import validate_section
from shipyard.config.models import DEFAULT_CONFIG, NAME_RE
from shipyard.config.sections import SECTIONS, Config
from shipyard.config.workloads import check_workloads
from shipyard.errors import ConfigError

_TOML_POSITION_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")


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


def parse_config(raw: dict[str, Any], path: Path) -> Config:
    problems = Problems(str(path))
    known = [section.key for section in SECTIONS]
    for key in raw:
        if key not in known:
            problems.add(f"{key}: unknown section; valid sections: {', '.join(known)}")
    for section in SECTIONS:
        if section.required and section.key not in raw:
            problems.add(f"[{section.key}]: required section is missing")
    tables = {section.key: validate_section(section.model, raw.get(section.key, {}), section.key, problems) for section in SECTIONS
              if section.key not in ("environments", "defaults") and not section.named
              and (section.key in raw or not (section.written_only or section.required))}
    named = {section.key: _named_tables(section.key, section.model, raw.get(section.key, {}), problems)
             for section in SECTIONS if section.named}
    app, service, site, checks = tables.get("app"), tables.get("service"), tables.get("site"), tables.get("checks")
    database = tables.get("database")
    defaults_raw = raw.get("defaults", {})
    defaults_ok = validate_section(EnvironmentSettings, defaults_raw, "defaults", problems) is not None
    check_directories(raw, tables, path, problems)
    services, jobs = named["services"], named["jobs"]
    declared = {key: set(raw[key]) if isinstance(raw.get(key), dict) else set() for key in ("services", "jobs")}
    topics = named["topics"]
    check_workloads(services, jobs, declared=declared["services"] | declared["jobs"], primary=service, home=path.parent,
                    config_name=path.name, has_database="database" in raw, add=problems.add, topics=topics,
                    declared_topics=set(raw["topics"]) if isinstance(raw.get("topics"), dict) else set())

    environments: dict[str, Environment] = {}
    envs_raw = raw.get("environments")
    if "environments" in raw and (not isinstance(envs_raw, dict) or not envs_raw):
        problems.add("environments: define at least one [environments.<name>] section")
        envs_raw = {}
    for env_name, env_raw in (envs_raw or {}).items():
        key = f"environments.{env_name}"
        if not NAME_RE.match(env_name) or env_name.endswith("-"):
            problems.add(f"{key}: environment name {env_name!r} is not valid; use [a-z][a-z0-9-]* (e.g. staging)")
            continue
        if not isinstance(env_raw, dict):
            problems.add(f"{key}: must be a table ([{key}])")
            continue
        merged = {**(defaults_raw if defaults_ok else {}), **env_raw}
        origin = {k: (key if k in env_raw else "defaults") for k in merged}
        settings = validate_section(EnvironmentInput, merged, key, problems, origin)
        if settings is not None and app is not None and service is not None:
            environment = resolve_environment(env_name, settings, app, service, problems, origin)
            if environment is not None:
                environments[env_name] = environment
                check_sizes(environment, services, jobs, declared, problems.add)
                for workload in [*services, *jobs]:
                    role = environment.names.workload(workload).execution_role
                    problem = naming.role_name_problem(role)
                    if problem:
                        problems.add(f"app.name: derived IAM role name {role!r} of {workload} in {env_name} {problem}; "
                                     "shorten app.name, the environment's or the workload's name")

    check_shared_accounts(environments, problems)
    check_domains(environments, problems)
    for env in environments.values():
        adopted = env.adopted.database if env.adopted else None
        if adopted and (database is None or database.engine != "aurora-postgresql"):
            problems.add(f"environments.{env.name}.adopted.database: {adopted!r} is an Aurora cluster; [database] must say "
                         'engine = "aurora-postgresql"')
    if database:
        for env in environments.values():
            problem = naming.rds_identifier_problem(env.names.database)
            if problem:
                problems.add(f"app.name: derived RDS instance identifier {env.names.database!r} for environment {env.name} "
                             f"{problem}; shorten or simplify app.name or the environment name")
    if checks:
        check_suppressions(checks, environments, problems)
    previews = tables.get("previews")
    if previews is not None and envs_raw and previews.base not in (envs_raw or {}):
        problems.add(f"previews.base: {previews.base!r} is not an environment of {path.name}; known environments: "
                     f"{', '.join(envs_raw)}")
    elif previews is not None and previews.base in environments and environments[previews.base].is_production:
        problems.add(f"previews.base: {previews.base!r} is a production environment; previews run beside a non-production one")
    elif previews is not None and previews.base in environments and environments[previews.base].domain:
        base = environments[previews.base]
        environments[previews.base] = base.model_copy(update={"preview_domain": naming.preview_domain(base.domain)})
    problems.raise_any()
    assert app and service and site and checks and tables.get("release")  # every None above added a problem
    return Config(path=path.resolve(), app=app, service=service, site=site, environments=environments, checks=checks,
                  release=tables["release"], database=database, services=services, jobs=jobs, topics=topics,
                  previews=previews)


def _named_tables(key: str, model: Any, raw: Any, problems: Problems) -> dict[str, Any]:
    """[key.<name>] tables, each validated by the model; the ones with problems are left out (and reported)."""
    if not isinstance(raw, dict):
        problems.add(f"{key}: must hold named tables ([{key}.<name>])")
        return {}
    found = {}
    for name, table in raw.items():
        validated = validate_section(model, table, f"{key}.{name}", problems)
        if validated is not None:
            found[name] = validated
    return found
