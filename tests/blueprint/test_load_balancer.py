from aws_cdk.assertions import Template

from shipyard.blueprint.load_balancer import LoadBalancer
from shipyard.blueprint.network import Network

from .helpers import bare_stack, only


def _template() -> Template:
    stack = bare_stack()
    network = Network(stack, "N")
    LoadBalancer(stack, "L", vpc=network.vpc, subnets=network.load_balancer_subnets, name="webapp-staging",
                 target_port=8000, health_check_path="/healthz", deletion_protection=True)
    return Template.from_stack(stack)


def _attributes(props: dict, key: str) -> dict:
    return {a["Key"]: a["Value"] for a in props[key]}


def test_internal_drops_invalid_headers_and_protected():
    props = only(_template(), "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert props["Scheme"] == "internal"
    assert props["Name"] == "webapp-staging"
    attributes = _attributes(props, "LoadBalancerAttributes")
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "true"


def test_blue_and_green_target_groups_tuned_for_fast_rollouts():
    template = _template()
    groups = template.find_resources("AWS::ElasticLoadBalancingV2::TargetGroup")
    assert len(groups) == 2
    for group in groups.values():
        props = group["Properties"]
        assert props["TargetType"] == "ip"
        assert props["HealthCheckPath"] == "/healthz"
        assert props["HealthCheckIntervalSeconds"] <= 10
        assert props["HealthyThresholdCount"] == 2
        assert int(_attributes(props, "TargetGroupAttributes")["deregistration_delay.timeout_seconds"]) <= 30
    # Production traffic goes through one rule whose weights ECS moves between the two groups.
    rule = only(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    weights = [t["Weight"] for t in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]]
    assert weights == [100, 0]
    listener = only(template, "AWS::ElasticLoadBalancingV2::Listener")
    assert listener["DefaultActions"][0]["Type"] == "fixed-response"


def test_load_balancer_admits_only_isolated_subnets():
    template = _template()
    groups = template.find_resources("AWS::EC2::SecurityGroup")
    lb_group = next(g for g in groups.values() if "load balancer" in g["Properties"]["GroupDescription"])
    ingress = lb_group["Properties"]["SecurityGroupIngress"]
    assert len(ingress) == 2
    for rule in ingress:
        assert rule["CidrIp"] in ("10.0.2.0/24", "10.0.3.0/24")  # the isolated subnets
        assert rule["FromPort"] == rule["ToPort"] == 80
    assert all("0.0.0.0/0" not in str(g["Properties"].get("SecurityGroupIngress", "")) for g in groups.values())


def test_tasks_admit_only_the_load_balancer():
    template = _template()
    ingress = template.find_resources("AWS::EC2::SecurityGroupIngress")
    assert len(ingress) == 1
    rule = next(iter(ingress.values()))["Properties"]
    assert rule["FromPort"] == rule["ToPort"] == 8000
    assert "SourceSecurityGroupId" in rule
