"""Workloads beside [service] in shipyard.toml: [services.<name>] of a kind, [jobs.<name>], and their sizes per
environment. A valid set loads; every wrong key, kind, route, reference and directory is one line of one run; and
until templates are built for them, validate and synth say they are not deployed (exit 2) instead of leaving them out."""

from __future__ import annotations

import re

import pytest

from shipyard.config import load_config
from shipyard.config.workloads import routes_overlap, schedule_problem

from .conftest import EXAMPLE_CONFIG

WORKLOADS = '''
[services.admin]
kind = "web"
directory = "admin"
routes = ["/admin/*"]
health_check_path = "/admin/healthz"
calls = ["catalog"]
publishes = ["orders"]

[services.catalog]
kind = "backend"
directory = "catalog"
port = 8001

[services.orders]
kind = "worker"
directory = "worker"

[jobs.nightly]
directory = "worker"
command = ["python", "nightly.py"]
schedule = "cron(0 3 * * ? *)"
timezone = "Europe/Berlin"
publishes = ["orders"]

[environments.production.services.orders]
cpu = 512
memory = 1024
desired_count = 1
max_count = 8
backlog_per_task = 100

[environments.production.jobs.nightly]
memory = 1024
'''


@pytest.fixture
def project(tmp_path):
    """The example's shipyard.toml in a folder with the workloads' directories (each with a Dockerfile)."""
    (tmp_path / "service" / "migrations").mkdir(parents=True)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<!doctype html><title>site</title>")
    for directory in ("service", "admin", "catalog", "worker"):
        (tmp_path / directory).mkdir(exist_ok=True)
        (tmp_path / directory / "Dockerfile").write_text("FROM scratch\n")
    return tmp_path


def _write(project, extra: str) -> str:
    """The example with the workload tables before [defaults] and the per-environment ones at the end."""
    text = EXAMPLE_CONFIG.read_text()
    defaults = text.index("\n[defaults]")
    workloads, _, sizes = extra.partition("\n[environments.")
    path = project / "shipyard.toml"
    path.write_text(text[:defaults] + workloads + text[defaults:] + ("\n[environments." + sizes if sizes else ""))
    return str(path)


def test_a_set_of_workloads_loads_with_each_environments_sizes(project):
    config = load_config(_write(project, WORKLOADS))
    assert {n: s.kind for n, s in config.services.items()} == {"admin": "web", "catalog": "backend", "orders": "worker"}
    assert config.services["catalog"].container_port == 8001 and config.services["orders"].container_port is None
    assert config.jobs["nightly"].timezone == "Europe/Berlin" and config.jobs["nightly"].retries == 2
    production = config.environments["production"]
    assert production.services["orders"].backlog_per_task == 100 and production.jobs["nightly"].memory == 1024
    assert config.environments["staging"].services == {}


def test_a_set_with_a_job_validates_and_a_job_calling_a_backend_is_refused(cli, project):
    result = cli("--config", _write(project, WORKLOADS), "validate")
    assert result.code == 0, result.err
    calling = WORKLOADS.replace('publishes = ["orders"]\n\n[environments', 'publishes = ["orders"]\ncalls = ["catalog"]\n\n[environments', 1)
    refused = cli("--config", _write(project, calling), "validate")
    assert refused.code == 2 and "jobs.nightly.calls: a job's task runs outside any ECS service" in refused.err, refused.err


WEB_ONLY = WORKLOADS[:WORKLOADS.index("[services.catalog]")].replace('calls = ["catalog"]\npublishes = ["orders"]\n', "")


def test_a_web_service_is_valid_and_synthesizes(cli, project):
    result = cli("--config", _write(project, WEB_ONLY), "validate")
    assert result.code == 0 and result.err == "", result.err
    assert result.out.startswith(f"{project / 'shipyard.toml'}: valid")


BAD = '''
[services.admin]
kind = "web"
directory = "admin"
routes = ["/api/admin/*"]
calls = ["orders", "ghost"]

[services.extra]
kind = "backend"
directory = "catalog"
colour = "blue"

[services.shop]
kind = "web"
directory = "admin"
routes = ["/shop/*", "/s?op/*"]

[services.catalog]
kind = "frontend"
directory = "catalog"

[services.orders]
kind = "worker"
directory = "worker"
port = 9000

[services.Queue]
kind = "worker"
directory = "nowhere"

[jobs.orders]
directory = "../outside"
schedule = "cron(0 3 * * * *)"
timezone = "Mars/Olympus"

[jobs.nightly]
directory = "worker"
schedule = "rate(1 day)"
publishes = ["admin"]

[jobs.weekly]
directory = "worker"
schedule = "rate(1 hours)"

[environments.production.services.ghost]
cpu = 256

[environments.production.services.shop]
desired_count = 0

[environments.production.jobs.nightly]
desired_count = 2
cpu = 256
memory = 4096
'''


def test_every_problem_of_the_workloads_is_one_line_of_one_run(cli, project):
    result = cli("--config", _write(project, BAD), "validate")
    assert result.code == 2 and result.out == ""
    said = result.err
    for pattern in (
        r"services\.extra\.colour: unknown key; valid keys: kind, directory",
        r"services\.catalog\.kind: 'frontend' is not valid; use 'web', 'backend' or 'worker'",
        r"services\.orders: .*a worker listens on no port",
        r"services\.Queue: name 'Queue' is not valid",
        r"services\.Queue\.directory: 'nowhere' has no Dockerfile",
        r"jobs\.orders\.schedule: .*exactly one of day-of-month and day-of-week must be '\?'",
        r"jobs\.orders\.timezone: 'Mars/Olympus' is not an IANA time zone",
        r"jobs\.weekly\.schedule: 'rate\(1 hours\)': use a singular unit for 1",
        r"jobs\.nightly\.publishes\[0\]: 'admin' is neither a worker nor a topic; workers: Queue",
        r"services\.admin\.calls\[1\]: 'ghost' is not a backend service",
        r"services\.admin\.routes\[0\]: '/api/admin/\*' overlaps '/api/\*' of \[service\]",
        r"services\.shop\.routes\[1\]: '/s\?op/\*' overlaps '/shop/\*' of services\.shop",
        r"services\.admin\.health_check_path: '/healthz' is not on its routes",
        r"environments\.production\.services\.ghost: there is no \[services\.ghost\]",
        r"environments\.production\.services\.shop\.desired_count: a web service serves requests, so it needs at least 1 task",
        r"environments\.production\.jobs\.nightly: a job runs one task per schedule",
        r"environments\.production\.jobs\.nightly\.memory: Fargate does not accept 4096 MiB with cpu 256",
    ):
        assert re.search(pattern, said), f"{pattern!r} not in:\n{said}"
    # A table with problems of its own is left out of the checks across tables, not reported twice or as missing.
    assert "jobs.orders: orders is also a service" not in said and "there is no [jobs.weekly]" not in said
    assert "calls[0]" not in said  # admin calls orders, whose own table is wrong (reported once, above)


def test_a_job_may_not_share_a_services_name_nor_publish_to_a_non_worker(cli, project):
    clash = '''
[services.orders]
kind = "worker"
directory = "worker"

[jobs.orders]
directory = "worker"
schedule = "rate(1 day)"
publishes = ["ghost"]
'''
    said = cli("--config", _write(project, clash), "validate").err
    assert "jobs.orders: orders is also a service; services and jobs share one set of names" in said
    assert "jobs.orders.publishes[0]: 'ghost' is neither a worker nor a topic; workers: orders; topics: none" in said


def test_a_workload_may_not_take_the_names_preview_environments_begin_with(cli, project):
    said = cli("--config", _write(project, '\n[services.pv-cart]\nkind = "worker"\ndirectory = "worker"\n'), "validate").err
    assert "services.pv-cart: 'pv-cart' is reserved: preview environments' names begin with pv-" in said


TOPICS = WORKLOADS.replace('''[services.orders]
kind = "worker"
directory = "worker"
''', '''[services.orders]
kind = "worker"
directory = "worker"

[services.audit]
kind = "worker"
directory = "worker"

[topics.placed]
subscribers = ["orders", "audit"]
''').replace('publishes = ["orders"]', 'publishes = ["placed"]', 1)


def test_a_topic_fans_out_to_workers_and_what_it_names_is_checked(cli, project):
    config = load_config(_write(project, TOPICS))
    assert config.topics["placed"].subscribers == ["orders", "audit"] and config.services["admin"].publishes == ["placed"]
    wrong = TOPICS.replace('subscribers = ["orders", "audit"]', 'subscribers = ["catalog", "ghost"]').replace(
        "[topics.placed]", '[topics.orders]\nsubscribers = []\n\n[topics.Bad]\nsubscribers = ["orders"]\n\n[topics.placed]')
    said = cli("--config", _write(project, wrong), "validate").err
    assert "topics.placed.subscribers[0]: 'catalog' is not a worker; workers: audit, orders" in said, said
    assert "topics.placed.subscribers[1]: 'ghost' is not a worker" in said
    assert "topics.orders.subscribers: a topic needs at least one subscriber" in said
    assert "topics.Bad: name 'Bad' is not valid" in said
    assert "topics.orders: orders is also a workload's name" not in said  # its own table is wrong, reported once above

@pytest.mark.parametrize(("first", "second", "overlap"), [
    ("/api/*", "/admin/*", False), ("/api/*", "/api/orders/*", True), ("/a?c", "/abc", True), ("/x*", "*y", True),
    ("/healthz", "/api/*", False), ("/a/*", "/b", False), ("/a/*/z", "/a/b/*", True), ("/a", "/a", True), ("/a", "/ab", False),
])
def test_routes_overlap_when_one_path_matches_both(first, second, overlap):
    assert routes_overlap(first, second) is overlap and routes_overlap(second, first) is overlap


@pytest.mark.parametrize(("expression", "problem"), [
    ("cron(0 3 * * ? *)", None), ("cron(0/15 8-18 ? * MON-FRI *)", None), ("rate(5 minutes)", None), ("rate(1 day)", None),
    ("rate(2 day)", "plural"), ("cron(0 3 * *)", "six"), ("cron(0 24 * * ? *)", "outside 0-23"), ("at(2026-12-24T18:00:00)", "neither"),
])
def test_schedule_expressions_as_eventbridge_scheduler_takes_them(expression, problem):
    found = schedule_problem(expression)
    assert (found is None) if problem is None else (problem in found), found


def test_a_workload_may_not_take_the_names_of_a_preview_tasks_one_shot_containers(cli, project):
    result = cli("--config", _write(project, '\n[services.migrate]\nkind = "worker"\ndirectory = "worker"\n'), "validate")
    assert result.code != 0
    assert "services.migrate: 'migrate' is reserved (a container of a preview's task, which runs [release] migrate)" in result.err
