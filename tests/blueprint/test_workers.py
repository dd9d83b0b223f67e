"""A worker ([services.<name>], kind worker), on the shop example: its queue and dead-letter queue in the foundation,
a security group that admits nothing, a rolling ECS service without a load balancer that scales on its backlog per task,
grants that let it consume its own queue and its publisher only send to it, the database's admission of it, an alarm on
its dead letters; production passes every check layer and cost prices the queues."""

from __future__ import annotations

import json
import shutil

import pytest

from shipyard.checks.engine import gated_synthesis
from shipyard.config import load_config
from shipyard.cost.estimate import Traffic, footprint, price
from shipyard.cost.prices import for_region

from ..conftest import ROOT

SHOP = ROOT / "examples" / "shop"


@pytest.fixture(scope="module")
def stacks(tmp_path_factory):
    """The shop's production templates, through every check layer as deploy's gate runs them: {stack suffix: template}."""
    app = tmp_path_factory.mktemp("shop") / "shop"
    shutil.copytree(SHOP, app, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    config = load_config(app / "shipyard.toml")
    [production], failing = gated_synthesis(config, [config.environment("production")], app / "cdk.out")
    assert failing == [], [f"{f.rule} {f.resource}: {f.message}" for f in failing]
    return {s.name.split("-production-", 1)[1]: s.template() for s in production.stacks}


def _of(template: dict, kind: str) -> dict[str, dict]:
    return {lid: r.get("Properties", {}) for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_the_queue_is_encrypted_tls_only_and_dead_letters_after_its_receive_count(stacks):
    queues = {p["QueueName"]: (lid, p) for lid, p in _of(stacks["foundation"], "AWS::SQS::Queue").items()}
    (_, work), (dead_id, dead) = queues["shop-production-orders"], queues["shop-production-orders-dlq"]
    assert work["SqsManagedSseEnabled"] is True and dead["SqsManagedSseEnabled"] is True
    assert work["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]}, "maxReceiveCount": 3}
    assert work["VisibilityTimeout"] == 30 and dead["MessageRetentionPeriod"] == 14 * 86400
    for policy in _of(stacks["foundation"], "AWS::SQS::QueuePolicy").values():
        [deny] = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_workers_tasks_admit_nothing_and_reach_only_https_and_the_database(stacks):
    groups = _of(stacks["foundation"], "AWS::EC2::SecurityGroup")
    worker = next(g for g in groups.values() if "orders tasks" in g["GroupDescription"])
    assert "SecurityGroupIngress" not in worker
    assert [(e["IpProtocol"], e["FromPort"], e["CidrIp"]) for e in worker["SecurityGroupEgress"]] == [("tcp", 443, "0.0.0.0/0")]
    data = stacks["data"]
    ingress = [r for r in _of(data, "AWS::EC2::SecurityGroupIngress").values() if "orders" in r["Description"]]
    assert [(r["FromPort"], r["Description"]) for r in ingress] == [(5432, "PostgreSQL from orders's tasks")]
    assert [e["FromPort"] for e in _of(data, "AWS::EC2::SecurityGroupEgress").values()] == [5432, 5432]


def test_the_worker_deploys_rolling_without_a_load_balancer_and_scales_on_backlog_per_task(stacks):
    service = stacks["service"]
    ecs = {p["ServiceName"]: p for p in _of(service, "AWS::ECS::Service").values()}
    orders = ecs["orders"]
    assert "LoadBalancers" not in orders and orders["DeploymentController"] == {"Type": "ECS"}  # rolling, not blue/green
    assert orders["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    [policy] = [p for p in _of(service, "AWS::ApplicationAutoScaling::ScalingPolicy").values() if p["PolicyName"] == "orders-backlog-per-task"]
    tracking = policy["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 10
    metrics = {m["Id"]: m for m in tracking["CustomizedMetricSpecification"]["Metrics"]}
    assert metrics["backlog"]["Expression"] == "visible / FILL(tasks, 1)" and metrics["backlog"]["ReturnData"] is True
    assert metrics["visible"]["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "QueueName", "Value": "shop-production-orders"}]
    assert metrics["tasks"]["MetricStat"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    [cluster] = _of(service, "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
    [definition] = [p for p in _of(service, "AWS::ECS::TaskDefinition").values() if p["Family"] == "shop-production-orders"]
    [container] = definition["ContainerDefinitions"]
    assert "PortMappings" not in container
    [own_queue] = [e["Value"] for e in container["Environment"] if e["Name"] == "SHIPYARD_QUEUE_URL"]
    assert own_queue["Fn::ImportValue"].startswith("shop-production-foundation:ExportsOutputRefOrdersQueue")
    assert {s["Name"] for s in container["Secrets"]} >= {"PGHOST", "PGPASSWORD"}


def test_the_worker_consumes_its_own_queue_and_its_publisher_may_only_send_to_it(stacks):
    service = stacks["service"]

    def sqs_statements(role_fragment: str) -> list[dict]:
        return [s for p in _of(service, "AWS::IAM::Policy").values() if any(role_fragment in json.dumps(r) for r in p["Roles"])
                for s in p["PolicyDocument"]["Statement"] if any(a.startswith("sqs:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]

    [consume] = sqs_statements("OrdersTaskRole")
    assert set(consume["Action"]) == {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                                      "sqs:GetQueueAttributes"}
    [send] = sqs_statements("WebTaskRole")
    assert set(send["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert consume["Resource"] == send["Resource"] and "GetAttOrdersQueue" in json.dumps(send["Resource"])
    assert sqs_statements("AdminTaskRole") == []  # the admin publishes nothing: no grant at all
    api = next(p for p in _of(service, "AWS::ECS::TaskDefinition").values() if p["Family"] == "shop-production-web")
    assert any(e["Name"] == "SHIPYARD_QUEUE_ORDERS_URL" for e in api["ContainerDefinitions"][0]["Environment"])


def test_the_deploy_role_may_read_the_worker_queues_depth_for_its_verdict(stacks):
    [policy] = [p for p in _of(stacks["foundation"], "AWS::IAM::ManagedPolicy").values()]
    [depth] = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "WorkerQueueDepth"]
    assert depth["Action"] == ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    assert [r["Fn::Join"][1][-1] for r in depth["Resource"]] == [":sqs:eu-west-1:222222222222:shop-production-orders",
                                                                 ":sqs:eu-west-1:222222222222:shop-production-orders-dlq"]


def test_dead_letters_alarm_and_cost_prices_the_queues(stacks):
    alarms = {p["AlarmName"]: p for p in _of(stacks["service"], "AWS::CloudWatch::Alarm").values()}
    dead = alarms["shop-production-orders-dead-letters"]
    assert (dead["MetricName"], dead["Threshold"], dead["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")
    assert dead["AlarmActions"] and dead["OKActions"]
    lines = {line.item: line for line in price(footprint(list(stacks.values())), for_region("eu-west-1"), Traffic.default(True))}
    assert "2 queues" in lines["SQS"].detail and lines["SQS"].monthly == 0.0  # within SQS's free million requests
    assert "Fargate on-demand (arm64): orders" in lines


def test_each_workload_has_its_dashboard_row_and_a_web_service_an_alarm_on_its_targets(stacks):
    alarms = {p["AlarmName"]: p for p in _of(stacks["service"], "AWS::CloudWatch::Alarm").values()}
    unhealthy = alarms["shop-production-admin-unhealthy-targets"]
    assert unhealthy["AlarmActions"] and unhealthy["EvaluationPeriods"] == 2
    assert [m["Expression"] for m in unhealthy["Metrics"] if "Expression" in m] == ["MAX([FILL(un0, 0), FILL(un1, 0)])"]
    assert not any(name.startswith(("shop-production-catalog-", "shop-production-orders-unhealthy")) for name in alarms)
    [dashboard] = _of(stacks["service"], "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for title in ("admin: CPU and memory (%)", "admin: targets (blue and green groups)", "catalog: CPU and memory (%)",
                  "orders: CPU and memory (%)", "orders: backlog and dead letters", "orders: running tasks"):
        assert title in body, title
