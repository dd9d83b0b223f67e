"""A web service beside [service] ([services.<name>], kind web): its own repository, image parameter, target groups and
listener rule on the one load balancer, an ECS service in the one cluster, CloudFront behaviours for its routes and a
deploy-role policy of its own; production's templates pass every check layer (cfn-lint, cdk-nag, shipyard's rules), cost prices
its tasks, and [service]'s own resources and deploy-role policy are what they were without it."""

from __future__ import annotations

import json
import shutil

import pytest

from shipyard import naming
from shipyard.checks.engine import gated_synthesis
from shipyard.config import load_config
from shipyard.cost.estimate import Traffic, footprint, price
from shipyard.cost.prices import for_region
from shipyard.synth import synthesize

from ..conftest import ADMIN_WORKLOAD, EXAMPLE


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """The example as it is, and with an admin web service: (config, {environment: {stack suffix: template}}) each."""
    found = {}
    for label, extra in (("single", ""), ("with_admin", ADMIN_WORKLOAD)):
        app = tmp_path_factory.mktemp(label) / "webapp"
        shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out", "tests", "__pycache__"))
        (app / "admin").mkdir()
        shutil.copy(app / "service" / "Dockerfile", app / "admin" / "Dockerfile")
        text = (app / "shipyard.toml").read_text()
        at = text.index("\n[defaults]")
        (app / "shipyard.toml").write_text(text[:at] + extra + text[at:] + '\n[environments.production.services.admin]\ndesired_count = 1\nmax_count = 2\n'
                                           if extra else text)
        config = load_config(app / "shipyard.toml")
        assemblies = synthesize(config, [config.environment("staging")], app / "cdk.out")
        if extra:  # production through every check layer (its rules are the strictest), as deploy's gate runs them
            production, failing = gated_synthesis(config, [config.environment("production")], app / "cdk.out")
            assert failing == [], [f"{f.rule} {f.resource}: {f.message}" for f in failing]
            assemblies += production
        else:
            assemblies += synthesize(config, [config.environment("production")], app / "cdk.out")
        found[label] = (config, {a.environment.name: {s.name.split(f"-{a.environment.name}-", 1)[1]: s.template() for s in a.stacks}
                                 for a in assemblies})
    return found


def _of(template: dict, kind: str) -> dict[str, dict]:
    return {lid: r.get("Properties", {}) for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_the_admin_service_gets_its_own_repository_image_parameter_and_route(apps):
    _, stacks = apps["with_admin"]
    foundation = stacks["staging"]["foundation"]
    assert "webapp/staging/admin" in [r["RepositoryName"] for r in _of(foundation, "AWS::ECR::Repository").values()]
    parameters = _of(foundation, "AWS::SSM::Parameter")
    assert parameters["AdminImageParameter"]["Name"] == "/shipyard/webapp/staging/workloads/admin/image"
    rules = {next(c["PathPatternConfig"]["Values"] for c in p["Conditions"])[0]: p["Priority"]
             for p in _of(foundation, "AWS::ElasticLoadBalancingV2::ListenerRule").values()}
    # The admin's rule is evaluated before [service]'s catch-all, at a priority its name gives it.
    assert rules == {"/admin/*": naming.rule_priority("admin"), "/*": naming.PRIMARY_RULE_PRIORITY_LAST}
    health = sorted(p["HealthCheckPath"] for p in _of(foundation, "AWS::ElasticLoadBalancingV2::TargetGroup").values())
    assert health == ["/admin/healthz", "/admin/healthz", "/healthz", "/healthz"]
    ingress = [(p.get("FromPort"), p.get("Description")) for p in _of(foundation, "AWS::EC2::SecurityGroupIngress").values()]
    assert (8100, "HTTP from the load balancer") in ingress


def test_the_admin_service_runs_in_the_one_cluster_with_its_own_family_and_roles(apps):
    _, stacks = apps["with_admin"]
    service_stack = stacks["production"]["service"]
    services = {p["ServiceName"]: p for p in _of(service_stack, "AWS::ECS::Service").values()}
    assert set(services) == {"web", "admin"}
    assert services["admin"]["Cluster"] == services["web"]["Cluster"]
    families = {p["Family"]: p for p in _of(service_stack, "AWS::ECS::TaskDefinition").values()}
    assert set(families) == {"webapp-production-web", "webapp-production-one-off", "webapp-production-admin"}
    assert families["webapp-production-admin"]["ContainerDefinitions"][0]["PortMappings"][0]["ContainerPort"] == 8100
    roles = {p.get("RoleName") for p in _of(service_stack, "AWS::IAM::Role").values()}
    assert {"webapp-production-admin-task", "webapp-production-admin-task-execution", "webapp-production-admin-traffic-shift"} <= roles
    targets = [p for p in _of(service_stack, "AWS::ApplicationAutoScaling::ScalableTarget").values() if "AdminService" in json.dumps(p)]
    assert [t["MaxCapacity"] for t in targets] == [2]  # [environments.production.services.admin]


def test_cloudfront_sends_the_admin_routes_to_the_load_balancer(apps):
    _, stacks = apps["with_admin"]
    distribution = next(iter(_of(stacks["staging"]["edge"], "AWS::CloudFront::Distribution").values()))["DistributionConfig"]
    behaviors = {b["PathPattern"]: b["TargetOriginId"] for b in distribution["CacheBehaviors"]}
    assert behaviors["/admin/*"] == behaviors["/api/*"]


def test_the_deploy_role_releases_the_admin_through_a_policy_of_its_own(apps):
    _, with_admin = apps["with_admin"]
    _, single = apps["single"]
    policies = _of(with_admin["staging"]["foundation"], "AWS::IAM::ManagedPolicy")
    document = json.dumps(next(iter(policies.values()))["PolicyDocument"])
    for resource in ("parameter/shipyard/webapp/staging/workloads/admin/image", "service/webapp-staging/admin",
                     "role/webapp-staging-admin-task-execution", "log-group:/shipyard/webapp/staging/workloads/admin:*"):
        assert resource in document, resource
    assert "role/webapp-staging-task" not in document  # [service]'s roles stay in its own policy

    def default_policy(stacks):
        return next(p["PolicyDocument"] for lid, p in _of(stacks["staging"]["foundation"], "AWS::IAM::Policy").items()
                    if lid.startswith("IdentityDeployRoleDefaultPolicy"))

    assert default_policy(with_admin) == default_policy(single)


def test_service_resources_of_the_primary_keep_their_logical_ids(apps):
    _, with_admin = apps["with_admin"]
    _, single = apps["single"]
    for suffix in ("foundation", "service", "edge"):
        kept = set(single["production"][suffix]["Resources"])
        assert kept <= set(with_admin["production"][suffix]["Resources"]), suffix


def test_cost_prices_the_admin_tasks_on_their_own_line(apps):
    _, stacks = apps["with_admin"]
    lines = {line.item: line for line in price(footprint(list(stacks["production"].values())), for_region("eu-west-1"),
                                                Traffic.default(True))}
    assert "Fargate on-demand (arm64): admin" in lines and "Fargate on-demand (arm64)" in lines
    assert lines["Fargate on-demand (arm64): admin"].detail.startswith("1 tasks x 0.5 vCPU / 1 GB")  # its own count
    assert lines["Fargate on-demand (arm64)"].detail.startswith("4 tasks x 0.5 vCPU / 1 GB")
