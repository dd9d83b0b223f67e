"""A preview's one stack for the app of several workloads (examples/shop): one service whose one task runs every
service workload as a container of its own, on ports of its own, with a target group per web workload; checked by
cfn-lint and cdk-nag as the environments' templates are."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from shipyard.checks.lint import Linter
from shipyard.config import load_config
from shipyard.synth import synthesize_preview

from ..conftest import ROOT


@pytest.fixture(scope="module")
def preview(tmp_path_factory):
    config = load_config(ROOT / "examples" / "shop" / "shipyard.toml")
    return synthesize_preview(config, "pr-7", slot=0, expires="2026-12-09T00:00:00Z", out_dir=tmp_path_factory.mktemp("preview"), nag=True)


def _of(template: dict, kind: str) -> list[dict]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_every_service_workload_is_a_container_of_the_one_task_on_a_port_of_its_own(preview):
    template = preview.stacks[0].template()
    [service] = _of(template, "AWS::ECS::Service")
    task = next(t for t in _of(template, "AWS::ECS::TaskDefinition") if t["Family"].endswith("-pv-pr-7-web"))
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    assert set(containers) == {"web", "admin", "catalog", "orders", "database", "migrate"}
    assert (task["Cpu"], task["Memory"]) == ("512", "1024")  # four long-running containers: the second size
    ports = {name: c["PortMappings"][0]["ContainerPort"] for name, c in containers.items() if c.get("PortMappings")}
    # [service] and the admin both listen on 8000 elsewhere: in one task the admin moves up, and is told so.
    assert ports == {"web": 8000, "admin": 8002, "catalog": 8001}
    variables = {name: {v["Name"]: v["Value"] for v in c.get("Environment", [])} for name, c in containers.items()}
    assert {name: variables[name]["PORT"] for name in ports} == {name: str(port) for name, port in ports.items()}
    assert variables["web"]["SHIPYARD_SERVICE_CATALOG_URL"] == "http://127.0.0.1:8001"
    # Every workload waits for the migrations, which wait for the database.
    assert all(c["DependsOn"] == [{"ContainerName": "migrate", "Condition": "SUCCESS"}]
               for name, c in containers.items() if name in ("admin", "catalog", "orders", "web"))
    assert containers["migrate"]["DependsOn"] == [{"ContainerName": "database", "Condition": "SUCCESS"}]
    # A target group per web workload, each naming its container and port; no Service Connect.
    assert [(lb["ContainerName"], lb["ContainerPort"]) for lb in service["LoadBalancers"]] == [("web", 8000), ("admin", 8002)]
    assert "ServiceConnectConfiguration" not in service and not _of(template, "AWS::ServiceDiscovery::HttpNamespace")
    groups = _of(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert sorted(g["Port"] for g in groups) == [8000, 8002]


def test_the_base_admits_the_load_balancer_on_the_ports_previews_listen_on(tmp_path):
    from shipyard.synth import synthesize

    config = load_config(ROOT / "examples" / "shop" / "shipyard.toml")
    [staging] = synthesize(config, config.select(["staging"]), tmp_path)
    foundation = next(s for s in staging.stacks if s.name.endswith("-foundation")).template()
    rules = [r for r in _of(foundation, "AWS::EC2::SecurityGroupIngress") if "load balancer" in r.get("Description", "")
             and "Preview" in json.dumps(r.get("GroupId"))]
    assert sorted(r["FromPort"] for r in rules) == [8000, 8002]


def test_cfn_lint_and_cdk_nag_find_nothing_in_it(preview):
    stack = preview.stacks[0]
    with Linter() as linter:
        findings = linter.submit(stack.template_path.read_text(), stack.region).result()
    assert not findings, findings
    [report] = Path(preview.directory).glob("*NagReport*.csv")
    with report.open() as rows:
        assert not [row for row in csv.DictReader(rows) if row.get("Compliance") == "Non-Compliant"]
