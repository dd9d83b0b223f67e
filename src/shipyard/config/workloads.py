"""Workloads beside the single [service]: [services.<name>] of a kind (web, backend, worker) and [jobs.<name>]
(scheduled jobs), and their sizes per environment ([environments.<env>.services.<name>], also under [defaults]).

The rules of one table are here; what needs several tables (names, references between workloads, routes that
overlap, directories on disk) is check_workloads, run by load.py; each environment's sizes of them are checked in
cross_checks.py, beside the environment's own.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from shipyard import naming
from shipyard.config.models import SECRETS_HELP, FargateCpu, PlainVariables, SecretVariables, ServiceConfig, UrlPath, _Model

# Short: a workload's name goes into its ECS service, target group and log group names beside the app's and the
# environment's (a target group name has at most 32 characters).
WORKLOAD_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")
PRIMARY = naming.PRIMARY_SERVICE  # the name [service] takes among the workloads
RESERVED = {"one-off": "the name of the one-off task family",
            "database": "a container of a preview's task, which makes its database",
            "migrate": "a container of a preview's task, which runs [release] migrate"}
# The primary service's routes: CloudFront sends /api/* and its health path to the load balancer.
PRIMARY_ROUTES = ("/api/*",)
# An ALB path pattern: up to 128 characters of these (ELB user guide, "Path conditions"); CloudFront's are alike.
_PATH_PATTERN_RE = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+&*?]{0,127}$")
MAX_ROUTES_PER_SERVICE = 5  # condition values an ALB rule evaluates (ELB quotas: 5 per rule)
MAX_EDGE_BEHAVIORS = 25  # cache behaviours per distribution (CloudFront quotas, default)
_RATE_RE = re.compile(r"^rate\((?P<value>[1-9]\d*) (?P<unit>minute|minutes|hour|hours|day|days)\)$")
_CRON_RE = re.compile(r"^cron\((?P<fields>[^()]+)\)$")


class WorkloadConfig(_Model):
    """[services.<name>]: a container service of one kind."""

    kind: Literal["web", "backend", "worker"] = Field(
        description="web (routed from the edge by path), backend (reached by name from other workloads only) or worker "
                    "(consumes its own queue)")
    directory: str = Field(description="the workload's build context (its Dockerfile), relative to shipyard.toml")
    command: list[str] | None = Field(None, description="the command the image runs, if not its Dockerfile's CMD")
    port: int | None = Field(None, ge=1024, le=65535, description="port the container listens on (web and backend; default 8000)")
    health_check_path: UrlPath | None = Field(None, description="path the health checks request (web and backend; default /healthz)")
    routes: list[str] = Field(default_factory=list, description="web: the path patterns CloudFront and the load balancer send to "
                                                                "it, e.g. [\"/admin/*\"]")
    calls: list[str] = Field(default_factory=list, description="the backend services it calls by name (nothing else is reachable)")
    publishes: list[str] = Field(default_factory=list, description="the workers whose queues it may send messages to, and the "
                                                                   "[topics.<name>] it may publish to")
    database: bool = Field(False, description="connects to the app's [database] (its PG* settings as secrets, and a way through "
                                              "the database's security group)")
    stop_timeout: int = Field(30, ge=2, le=120, description="seconds between SIGTERM and SIGKILL when a task stops")
    environment: PlainVariables = Field(default_factory=dict, description="plain environment variables (never secrets)")
    secrets: SecretVariables = Field(default_factory=dict, description=SECRETS_HELP)
    max_receive_count: int | None = Field(None, ge=1, le=1000, description="worker: deliveries of one message before SQS moves it to "
                                                                             "the dead-letter queue (default 5)")
    visibility_timeout: int | None = Field(None, ge=0, le=43_200, description="worker: seconds a received message stays hidden from "
                                                                              "other receivers while it is worked on (default 30)")

    @model_validator(mode="after")
    def _by_kind(self) -> WorkloadConfig:
        if self.kind == "web" and not self.routes:
            raise ValueError("a web service needs routes, e.g. routes = [\"/admin/*\"]")
        if self.kind != "web" and self.routes:
            raise ValueError(f"only web services are routed from the edge; a {self.kind} has no routes")
        if self.kind == "worker" and (self.port is not None or self.health_check_path is not None):
            raise ValueError("a worker listens on no port; remove port and health_check_path (it is judged by its queue)")
        if self.kind != "worker" and (self.max_receive_count is not None or self.visibility_timeout is not None):
            raise ValueError(f"only a worker has a queue; a {self.kind} has no max_receive_count or visibility_timeout")
        return self

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        for route in value:
            if not _PATH_PATTERN_RE.match(route):
                raise ValueError(f"{route!r} is not a path pattern; start with '/', use at most 128 of A-Z a-z 0-9 _ - . $ / ~ \" ' "
                                 "@ : + & and the wildcards * and ?")
        if len(value) > MAX_ROUTES_PER_SERVICE:
            raise ValueError(f"{len(value)} routes; a load balancer rule matches at most {MAX_ROUTES_PER_SERVICE} path patterns")
        return value

    @property
    def listens(self) -> bool:
        return self.kind != "worker"

    @property
    def container_port(self) -> int | None:
        return (self.port or 8000) if self.listens else None

    @property
    def health_path(self) -> str | None:
        return (self.health_check_path or "/healthz") if self.listens else None

    @property
    def receives(self) -> int:
        return self.max_receive_count or 5

    @property
    def hidden_seconds(self) -> int:
        return 30 if self.visibility_timeout is None else self.visibility_timeout


class JobConfig(_Model):
    """[jobs.<name>]: a task EventBridge Scheduler runs on a schedule."""

    directory: str = Field(description="the job's build context (its Dockerfile), relative to shipyard.toml")
    command: list[str] | None = Field(None, description="the command a run executes, if not its Dockerfile's CMD")
    schedule: str = Field(description="cron(minutes hours day-of-month month day-of-week year) or rate(value unit), as "
                                      "EventBridge Scheduler takes them, e.g. \"cron(0 3 * * ? *)\"")
    timezone: str = Field("UTC", description="the time zone the cron expression is read in (IANA name, e.g. Europe/Berlin)")
    timeout_minutes: int = Field(60, ge=1, le=1440, description="a run still going after this long is stopped and counts as failed")
    retries: int = Field(2, ge=0, le=185, description="times EventBridge Scheduler retries a run it could not start")
    calls: list[str] = Field(default_factory=list, description="refused: a job's task runs outside any ECS service, and Service "
                                                               "Connect reaches backends from services only")
    publishes: list[str] = Field(default_factory=list, description="the workers whose queues it may send messages to, and the "
                                                                   "[topics.<name>] it may publish to")
    database: bool = Field(False, description="hand it the app's [database] (its PG* settings, and a way through the database's security group)")
    environment: PlainVariables = Field(default_factory=dict, description="plain environment variables (never secrets)")
    secrets: SecretVariables = Field(default_factory=dict, description=SECRETS_HELP)

    @field_validator("calls")
    @classmethod
    def _calls(cls, value: list[str]) -> list[str]:
        if value:
            raise ValueError("a job's task runs outside any ECS service, and ECS Service Connect reaches backends from services "
                             "only (ECS developer guide, \"Service Connect\"); have a service do the call, or publish to a worker")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        problem = schedule_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)") from None
        return value


class TopicConfig(_Model):
    """[topics.<name>]: an SNS topic whose every message reaches each subscriber's queue (publish/subscribe fan-out,
    Copilot's model). A workload that lists the topic in `publishes` may publish to it, and nothing else may."""

    subscribers: list[str] = Field(description="the workers whose queues receive every message published to the topic")
    raw_delivery: bool = Field(True, description="deliver each message as published; false: inside SNS's JSON envelope "
                                                 "(its Message field), as Copilot's workers received them")

    @field_validator("subscribers")
    @classmethod
    def _subscribers(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a topic needs at least one subscriber (a worker); without one its messages go nowhere")
        if len(set(value)) != len(value):
            raise ValueError("names a subscriber twice")
        return value


class WorkloadSize(_Model):
    """[environments.<env>.services.<name>] and [environments.<env>.jobs.<name>]: one workload's size there."""

    cpu: FargateCpu | None = Field(None, description="task CPU units (default: the environment's cpu)")
    memory: int | None = Field(None, description="task memory in MiB (default: the environment's memory)")
    desired_count: int | None = Field(None, ge=0, description="services: tasks running after a release (a worker may idle at 0)")
    max_count: int | None = Field(None, ge=1, le=1000, description="services: the autoscaling maximum")
    backlog_per_task: int | None = Field(None, ge=1, le=100_000, description="workers: queued messages per task autoscaling keeps")


def rate_seconds(expression: str) -> int | None:
    """The seconds between two runs of a rate(value unit) expression; None for a cron one."""
    rate = _RATE_RE.match(expression)
    return int(rate["value"]) * {"minute": 60, "hour": 3600, "day": 86400}[rate["unit"].rstrip("s")] if rate else None


def schedule_problem(expression: str) -> str | None:
    """Why EventBridge Scheduler would refuse a recurring schedule expression, or None (Scheduler user guide,
    "Schedule types": rate(value unit), cron with six fields and a '?' in day-of-month or day-of-week)."""
    rate = _RATE_RE.match(expression)
    if rate:
        singular = rate["unit"] in ("minute", "hour", "day")
        if (rate["value"] == "1") != singular:
            return f"{expression!r}: use a singular unit for 1 and a plural one otherwise, e.g. rate(1 hour), rate(5 minutes)"
        return None
    cron = _CRON_RE.match(expression)
    if not cron:
        return f"{expression!r} is neither cron(...) nor rate(...); e.g. \"cron(0 3 * * ? *)\" or \"rate(1 hour)\""
    fields = cron["fields"].split()
    if len(fields) != 6:
        return f"{expression!r} has {len(fields)} fields; cron takes six: minutes hours day-of-month month day-of-week year"
    if (fields[2] == "?") == (fields[4] == "?"):
        return f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'"
    ranges = ((0, 59), (0, 23), (1, 31), (1, 12), (1, 7), (1970, 2199))
    for field, (low, high), label in zip(fields, ranges, ("minutes", "hours", "day-of-month", "month", "day-of-week", "year"), strict=True):
        for number in re.findall(r"\d+", re.sub(r"/\d+", "", field)):  # a step's divisor is no value of the field
            if not low <= int(number) <= high and not (label == "day-of-week" and "#" in field):
                return f"{expression!r}: {label} value {number} is outside {low}-{high}"
    return None


def routes_overlap(first: str, second: str) -> bool:
    """Whether some path matches both patterns (* any characters, ? one): a pattern that shadows another overlaps it."""

    @cache
    def go(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        a = first[i] if i < len(first) else None
        b = second[j] if j < len(second) else None
        if a == "*" and (go(i + 1, j) or (b is not None and go(i, j + 1))):
            return True
        if b == "*" and (go(i, j + 1) or (a is not None and go(i + 1, j))):
            return True
        if a is not None and b is not None and "*" not in (a, b) and (a == b or "?" in (a, b)):
            return go(i + 1, j + 1)
        return False

    return go(0, 0)


def check_workloads(services: dict[str, WorkloadConfig], jobs: dict[str, JobConfig], *, declared: set[str],
                    primary: ServiceConfig | None, home: Path, config_name: str, has_database: bool,
                    add: Callable[[str], None], topics: dict[str, TopicConfig] | None = None,
                    declared_topics: set[str] = frozenset()) -> None:
    """What needs several tables: names, kinds of what is called or published to, routes, directories on disk.
    declared: every workload name the file has, valid or not (an invalid table's problems are reported already)."""
    for section, table in (("services", services), ("jobs", jobs)):
        for name in table:
            if not WORKLOAD_NAME_RE.match(name) or name.endswith("-"):
                add(f"{section}.{name}: name {name!r} is not valid; use [a-z][a-z0-9-]*, at most 12 characters (it goes into AWS names)")
    for name in set(services) & set(jobs):
        add(f"jobs.{name}: {name} is also a service; services and jobs share one set of names")
    for section, table in (("services", services), ("jobs", jobs)):
        for name in set(table) & set(RESERVED):
            add(f"{section}.{name}: {name!r} is reserved ({RESERVED[name]}); pick another name")
        for name in sorted(n for n in table if n == naming.PREVIEW_INFIX or n.startswith(f"{naming.PREVIEW_INFIX}-")):
            add(f"{section}.{name}: {name!r} is reserved: preview environments' names begin with {naming.PREVIEW_INFIX}- "
                "(docs/decisions.md §32); pick another name")
    priorities: dict[int, str] = {}
    for name, service in services.items():
        if service.kind == "web":
            other = priorities.setdefault(naming.rule_priority(name), name)
            if other != name:
                add(f"services.{name}: its listener rule priority (from its name) is {other}'s too; rename one of them")
    if primary is not None and PRIMARY in services:
        add(f"services.{PRIMARY}: [service] is the workload named {PRIMARY}; rename this one or move [service] here")
    topics = topics or {}
    _check_topics(topics, services, declared, add)
    if primary is not None:
        _check_calls("service", PRIMARY, primary.calls, services, declared, add)
        _check_publishes("service", primary.publishes, services, declared, declared_topics, add)
    for section, table in (("services", services), ("jobs", jobs)):
        for name, workload in table.items():
            _check_calls(f"{section}.{name}", name, workload.calls, services, declared, add)
            _check_publishes(f"{section}.{name}", workload.publishes, services, declared, declared_topics, add)
            if getattr(workload, "database", False) and not has_database:
                add(f"{section}.{name}.database: the app has no [database] to connect to; add one, or remove this key")
            directory = (home / workload.directory).resolve()
            if not directory.is_relative_to(home.resolve()):
                add(f"{section}.{name}.directory: {workload.directory!r} is outside the directory that holds {config_name}")
            elif not (directory / "Dockerfile").is_file():
                add(f"{section}.{name}.directory: {workload.directory!r} has no Dockerfile; each workload is built from its own")
    _check_routes(services, primary, add)


def _check_calls(key: str, name: str, calls: list[str], services: dict[str, WorkloadConfig], declared: set[str],
                 add: Callable[[str], None]) -> None:
    for index, called in enumerate(calls):
        target = services.get(called)
        if target is None and called in declared:
            continue
        if called == name:
            add(f"{key}.calls[{index}]: a workload does not call itself by name")
        elif target is None or target.kind != "backend":
            known = sorted(n for n, s in services.items() if s.kind == "backend")
            add(f"{key}.calls[{index}]: {called!r} is not a backend service; backends: {', '.join(known) or 'none'}")


def _check_publishes(key: str, publishes: list[str], services: dict[str, WorkloadConfig], declared: set[str],
                     topics: set[str], add: Callable[[str], None]) -> None:
    for index, published in enumerate(publishes):
        target = services.get(published)
        if published in topics or (target is None and published in declared):
            continue
        if target is None or target.kind != "worker":
            known = sorted(n for n, s in services.items() if s.kind == "worker")
            add(f"{key}.publishes[{index}]: {published!r} is neither a worker nor a topic; workers: {', '.join(known) or 'none'}; "
                f"topics: {', '.join(sorted(topics)) or 'none'}")


def _check_topics(topics: dict[str, TopicConfig], services: dict[str, WorkloadConfig], declared: set[str],
                  add: Callable[[str], None]) -> None:
    """A topic's name goes into AWS names beside the workloads' (and may not be one of theirs); it fans out to workers."""
    for name, topic in topics.items():
        if not WORKLOAD_NAME_RE.match(name) or name.endswith("-"):
            add(f"topics.{name}: name {name!r} is not valid; use [a-z][a-z0-9-]*, at most 12 characters (it goes into AWS names)")
        if name in declared:
            add(f"topics.{name}: {name} is also a workload's name; `publishes` would name either")
        for index, subscriber in enumerate(topic.subscribers):
            target = services.get(subscriber)
            if target is None and subscriber in declared:
                continue
            if target is None or target.kind != "worker":
                known = sorted(n for n, s in services.items() if s.kind == "worker")
                add(f"topics.{name}.subscribers[{index}]: {subscriber!r} is not a worker; workers: {', '.join(known) or 'none'}")


def _check_routes(services: dict[str, WorkloadConfig], primary: ServiceConfig | None, add: Callable[[str], None]) -> None:
    owned: list[tuple[str, str]] = []  # (route, owner) in the order CloudFront and the load balancer evaluate them
    if primary is not None:
        owned += [(route, "[service]") for route in (*PRIMARY_ROUTES, primary.health_check_path)]
    for name, service in services.items():
        for index, route in enumerate(service.routes):
            for other, owner in owned:
                if routes_overlap(route, other):
                    add(f"services.{name}.routes[{index}]: {route!r} overlaps {other!r} of {owner}; a path must reach one "
                        "service, so make the patterns disjoint (e.g. /admin/* beside /api/*)")
                    break
            owned.append((route, f"services.{name}"))
        if service.kind == "web" and not any(routes_overlap(service.health_path or "", r) for r in service.routes):
            add(f"services.{name}.health_check_path: {service.health_path!r} is not on its routes {service.routes}; "
                "the health gate requests it through the edge")
    # The site's default behaviour plus the primary's two take three of CloudFront's behaviours.
    behaviors = len(owned) + 1
    if behaviors > MAX_EDGE_BEHAVIORS:
        add(f"services: {len(owned)} routes need {behaviors} CloudFront cache behaviours; a distribution has at most {MAX_EDGE_BEHAVIORS}")
