"""Workloads beside [service], on the example with an admin web service that publishes to an orders worker and calls a
catalog backend; production's templates pass every check layer (cfn-lint, cdk-nag, shipyard's rules) and [service]'s
own resources and deploy-role policy are what they were without them.

A web service: its own repository, image parameter, target groups and listener rule on the one load balancer, an ECS
service in the one cluster, CloudFront behaviours for its routes, a deploy-role policy of its own, its tasks priced.
A worker: its queue and dead-letter queue in the foundation, a security group that admits nothing, a rolling ECS
service without a load balancer that scales on its backlog per task, grants that let it consume its own queue and its
publisher only send to it, the database's admission of it, an alarm on its dead letters; cost prices the queues.
A backend: its Service Connect name, a group that admits its declared caller only, its container health check.
A job: a schedule (disabled until its first release) that may only start its state machine, which runs the exact
released revision, fails a run on an exit code other than 0 or past its timeout, and may pass only the job's roles;
an alarm on failed runs; cost prices its runs."""

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

# Beside the admin: a worker it publishes to, directly and through a topic (with the database), and a backend it
# calls; [service] does neither.
WORKLOADS = ADMIN_WORKLOAD.replace('port = 8100\n', 'port = 8100\npublishes = ["orders", "placed"]\ncalls = ["catalog"]\n') + """
[topics.placed]
subscribers = ["orders"]

[services.orders]
kind = "worker"
directory = "admin"
database = true
max_receive_count = 3

[services.catalog]
kind = "backend"
directory = "admin"
port = 8001

[jobs.nightly]
directory = "admin"
schedule = "cron(0 3 * * ? *)"
timezone = "Europe/Berlin"
timeout_minutes = 30
database = true
publishes = ["orders"]
"""


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """The example as it is, and with its workloads: (config, {environment: {stack suffix: template}}) each."""
    found = {}
    for label, extra in (("single", ""), ("with_admin", WORKLOADS)):
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
    assert set(services) == {"web", "admin", "orders", "catalog"}
    assert services["admin"]["Cluster"] == services["web"]["Cluster"]
    families = {p["Family"]: p for p in _of(service_stack, "AWS::ECS::TaskDefinition").values()}
    assert set(families) == {"webapp-production-web", "webapp-production-one-off", "webapp-production-admin",
                             "webapp-production-orders", "webapp-production-catalog", "webapp-production-nightly"}
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


def test_the_queue_is_encrypted_tls_only_and_dead_letters_after_its_receive_count(apps):
    stacks = apps["with_admin"][1]["production"]
    queues = {p["QueueName"]: (lid, p) for lid, p in _of(stacks["foundation"], "AWS::SQS::Queue").items()}
    (_, work), (dead_id, dead) = queues["webapp-production-orders"], queues["webapp-production-orders-dlq"]
    assert work["SqsManagedSseEnabled"] is True and dead["SqsManagedSseEnabled"] is True
    assert work["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dead_id, "Arn"]}, "maxReceiveCount": 3}
    assert work["VisibilityTimeout"] == 30 and dead["MessageRetentionPeriod"] == 14 * 86400
    for policy in _of(stacks["foundation"], "AWS::SQS::QueuePolicy").values():
        deny, *others = policy["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # Besides: only a topic's delivery to the queue it fans out to (test_a_topic_fans_out_...).
        assert all(s["Principal"] == {"Service": "sns.amazonaws.com"} and "aws:SourceArn" in s["Condition"]["ArnEquals"] for s in others)


def test_the_workers_tasks_admit_nothing_and_reach_only_https_and_the_database(apps):
    stacks = apps["with_admin"][1]["production"]
    groups = _of(stacks["foundation"], "AWS::EC2::SecurityGroup")
    worker = next(g for g in groups.values() if "orders tasks" in g["GroupDescription"])
    assert "SecurityGroupIngress" not in worker
    assert [(e["IpProtocol"], e["FromPort"], e["CidrIp"]) for e in worker["SecurityGroupEgress"]] == [("tcp", 443, "0.0.0.0/0")]
    data = stacks["data"]
    ingress = [r for r in _of(data, "AWS::EC2::SecurityGroupIngress").values() if "orders" in r["Description"]]
    assert [(r["FromPort"], r["Description"]) for r in ingress] == [(5432, "PostgreSQL from orders's tasks")]
    assert [e["FromPort"] for e in _of(data, "AWS::EC2::SecurityGroupEgress").values()] == [5432, 5432, 5432]  # orders, nightly, [service]


def test_the_worker_deploys_rolling_without_a_load_balancer_and_scales_on_backlog_per_task(apps):
    stacks = apps["with_admin"][1]["production"]
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
    assert metrics["visible"]["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "QueueName", "Value": "webapp-production-orders"}]
    assert metrics["tasks"]["MetricStat"]["Metric"]["Namespace"] == "ECS/ContainerInsights"
    [cluster] = _of(service, "AWS::ECS::Cluster").values()
    assert {"Name": "containerInsights", "Value": "enabled"} in cluster["ClusterSettings"]
    [definition] = [p for p in _of(service, "AWS::ECS::TaskDefinition").values() if p["Family"] == "webapp-production-orders"]
    [container] = definition["ContainerDefinitions"]
    assert "PortMappings" not in container
    [own_queue] = [e["Value"] for e in container["Environment"] if e["Name"] == "SHIPYARD_QUEUE_URL"]
    assert own_queue["Fn::ImportValue"].startswith("webapp-production-foundation:ExportsOutputRefOrdersQueue")
    assert {s["Name"] for s in container["Secrets"]} >= {"PGHOST", "PGPASSWORD"}


def test_the_worker_consumes_its_own_queue_and_its_publisher_may_only_send_to_it(apps):
    stacks = apps["with_admin"][1]["production"]
    service = stacks["service"]

    def sqs_statements(role_fragment: str) -> list[dict]:
        return [s for p in _of(service, "AWS::IAM::Policy").values() if any(role_fragment in json.dumps(r) for r in p["Roles"])
                for s in p["PolicyDocument"]["Statement"] if any(a.startswith("sqs:") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]

    [consume] = sqs_statements("OrdersTaskRole")
    assert set(consume["Action"]) == {"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                                      "sqs:GetQueueAttributes"}
    [send] = sqs_statements("AdminTaskRole")
    assert set(send["Action"]) == {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
    assert consume["Resource"] == send["Resource"] and "GetAttOrdersQueue" in json.dumps(send["Resource"])
    assert sqs_statements("WebTaskRole") == []  # [service] publishes nothing: no grant at all
    api = next(p for p in _of(service, "AWS::ECS::TaskDefinition").values() if p["Family"] == "webapp-production-admin")
    assert any(e["Name"] == "SHIPYARD_QUEUE_ORDERS_URL" for e in api["ContainerDefinitions"][0]["Environment"])


def test_the_deploy_role_may_read_the_worker_queues_depth_for_its_verdict(apps):
    stacks = apps["with_admin"][1]["production"]
    [policy] = [p for p in _of(stacks["foundation"], "AWS::IAM::ManagedPolicy").values()]
    [depth] = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") == "WorkerQueueDepth"]
    assert depth["Action"] == ["sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    assert [r["Fn::Join"][1][-1] for r in depth["Resource"]] == [":sqs:eu-west-1:222222222222:webapp-production-orders",
                                                                 ":sqs:eu-west-1:222222222222:webapp-production-orders-dlq"]


def test_dead_letters_alarm_and_cost_prices_the_queues(apps):
    stacks = apps["with_admin"][1]["production"]
    alarms = {p["AlarmName"]: p for p in _of(stacks["service"], "AWS::CloudWatch::Alarm").values()}
    dead = alarms["webapp-production-orders-dead-letters"]
    assert (dead["MetricName"], dead["Threshold"], dead["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")
    assert dead["AlarmActions"] and dead["OKActions"]
    lines = {line.item: line for line in price(footprint(list(stacks.values())), for_region("eu-west-1"), Traffic.default(True))}
    # The worker's queue and dead-letter queue, and the job's failed invocations: within SQS's free million requests.
    assert "3 queues" in lines["SQS"].detail and lines["SQS"].monthly == 0.0
    assert "Fargate on-demand (arm64): orders" in lines and "Cloud Map (Service Connect)" in lines


def test_each_workload_has_its_dashboard_row_and_a_web_service_an_alarm_on_its_targets(apps):
    stacks = apps["with_admin"][1]["production"]
    alarms = {p["AlarmName"]: p for p in _of(stacks["service"], "AWS::CloudWatch::Alarm").values()}
    unhealthy = alarms["webapp-production-admin-unhealthy-targets"]
    assert unhealthy["AlarmActions"] and unhealthy["EvaluationPeriods"] == 2
    assert [m["Expression"] for m in unhealthy["Metrics"] if "Expression" in m] == ["MAX([FILL(un0, 0), FILL(un1, 0)])"]
    assert not any(name.startswith(("webapp-production-catalog-", "webapp-production-orders-unhealthy")) for name in alarms)
    [dashboard] = _of(stacks["service"], "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["DashboardBody"])
    for title in ("admin: CPU and memory (%)", "admin: targets (blue and green groups)", "catalog: CPU and memory (%)",
                  "orders: CPU and memory (%)", "orders: backlog and dead letters", "orders: running tasks"):
        assert title in body, title


def test_the_backend_serves_its_name_and_admits_only_its_caller(apps):
    stacks = apps["with_admin"][1]["production"]
    services = {p["ServiceName"]: p for p in _of(stacks["service"], "AWS::ECS::Service").values()}
    assert services["catalog"]["ServiceConnectConfiguration"]["Services"] == [
        {"ClientAliases": [{"DnsName": "catalog", "Port": 8001}], "DiscoveryName": "catalog", "PortName": "http"}]
    assert "Services" not in services["admin"]["ServiceConnectConfiguration"]  # a client only
    assert "ServiceConnectConfiguration" not in services["web"] and "ServiceConnectConfiguration" not in services["orders"]
    [namespace] = _of(stacks["service"], "AWS::ServiceDiscovery::HttpNamespace").values()
    assert namespace["Name"] == "webapp-production.internal"
    ingress = [r for r in _of(stacks["foundation"], "AWS::EC2::SecurityGroupIngress").values() if r["FromPort"] == 8001]
    assert [r["Description"] for r in ingress] == ["admin calls catalog (Service Connect)"]
    assert "NetworkAdminSecurityGroup" in json.dumps(ingress[0]["SourceSecurityGroupId"])
    [catalog] = [p for p in _of(stacks["service"], "AWS::ECS::TaskDefinition").values() if p["Family"] == "webapp-production-catalog"]
    check = catalog["ContainerDefinitions"][0]["HealthCheck"]
    assert check["Command"][:2] == ["CMD", "python"] and "http://127.0.0.1:8001/healthz" in check["Command"][-1]
    [admin] = [p for p in _of(stacks["service"], "AWS::ECS::TaskDefinition").values() if p["Family"] == "webapp-production-admin"]
    assert {"Name": "SHIPYARD_SERVICE_CATALOG_URL", "Value": "http://catalog:8001"} in admin["ContainerDefinitions"][0]["Environment"]


def _statements(template: dict, role_logical_prefix: str) -> list[dict]:
    return [st for lid, p in _of(template, "AWS::IAM::Policy").items() if lid.startswith(role_logical_prefix)
            for st in p["PolicyDocument"]["Statement"]]


def test_the_jobs_state_machine_runs_the_released_revision_and_judges_its_exit_code_and_timeout(apps):
    _, stacks = apps["with_admin"]
    service = stacks["production"]["service"]
    [machine] = _of(service, "AWS::StepFunctions::StateMachine").values()
    assert machine["StateMachineName"] == "webapp-production-nightly"
    parts = machine["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else json.dumps(p) for p in parts)
    assert ':states:::ecs:runTask.sync' in text and '"TimeoutSeconds":1800' in text
    assert '"Variable":"$.ExitCode","NumericEquals":0' in text and '"Error":"NonZeroExit"' in text
    # The exact revision: family:revision, the revision read from the released task definition's ARN.
    revision = next(p for p in parts if isinstance(p, dict) and "Fn::Select" in p)
    assert revision["Fn::Select"][0] == 6 and revision["Fn::Select"][1]["Fn::Split"][1]["Ref"].startswith("NightlyTask")
    assert machine["LoggingConfiguration"]["Level"] == "ALL" and machine["TracingConfiguration"] == {"Enabled": True}
    passed = [st for st in _statements(service, "NightlyRunRole") if st["Action"] == "iam:PassRole"]
    assert [sorted(r["Fn::GetAtt"][0] for r in st["Resource"]) for st in passed] == [["NightlyExecutionRole0608EFC9", "NightlyTaskRole0110A49A"]]


def test_the_schedule_starts_only_its_state_machine_and_waits_for_the_first_release(apps):
    _, stacks = apps["with_admin"]
    service = stacks["production"]["service"]
    [schedule] = _of(service, "AWS::Scheduler::Schedule").values()
    assert schedule["ScheduleExpression"] == "cron(0 3 * * ? *)" and schedule["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert schedule["State"]["Fn::If"][1:] == ["ENABLED", "DISABLED"]
    target = schedule["Target"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 2}
    assert target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0].startswith("NightlyFailedInvocations")
    actions = {(st["Action"] if isinstance(st["Action"], str) else tuple(st["Action"])): st["Resource"]
               for st in _statements(service, "NightlySchedulerRole")}
    assert actions[("states:StartExecution")] == {"Ref": next(iter(_of(service, "AWS::StepFunctions::StateMachine")))}
    assert all(a.startswith("sqs:") for a in (x for k in actions if k != "states:StartExecution" for x in (k if isinstance(k, tuple) else (k,))))
    role = next(p for lid, p in _of(service, "AWS::IAM::Role").items() if lid.startswith("NightlySchedulerRole"))
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": "222222222222"}


def test_a_failed_run_alarms_and_cost_prices_the_runs(apps):
    _, stacks = apps["with_admin"]
    service = stacks["production"]["service"]
    alarm = next(p for p in _of(service, "AWS::CloudWatch::Alarm").values() if p.get("AlarmName") == "webapp-production-nightly-failed-runs")
    assert "FILL(failed, 0)" in next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)
    lines = price(footprint(list(stacks["production"].values())), for_region("eu-west-1"), Traffic.default(True))
    [runs] = [line for line in lines if line.item == "Fargate (scheduled jobs)"]
    assert "30 runs x at most 30 min" in runs.detail and runs.monthly > 0


def test_the_deploy_role_updates_reads_and_runs_its_jobs_only(apps):
    stacks = apps["with_admin"][1]["production"]
    [policy] = [p for p in _of(stacks["foundation"], "AWS::IAM::ManagedPolicy").values()]
    by_sid = {s.get("Sid"): s for s in policy["PolicyDocument"]["Statement"]}

    def ends(sid):
        resources = by_sid[sid]["Resource"]
        return [r["Fn::Join"][1][-1] for r in (resources if isinstance(resources, list) else [resources])]

    machine, schedule = ":states:eu-west-1:222222222222:stateMachine:webapp-production-nightly", \
        ":scheduler:eu-west-1:222222222222:schedule/default/webapp-production-nightly"
    assert by_sid["JobUpdate"]["Condition"] == {"ForAnyValue:StringEquals": {"aws:CalledVia": ["cloudformation.amazonaws.com"]}}
    assert ends("JobUpdate") == ends("ReadJobs") == [machine, schedule]
    assert by_sid["RunJob"]["Action"] == ["states:StartExecution", "states:ListExecutions"] and ends("RunJob") == [machine]
    assert ends("FollowJobRuns") == [":states:eu-west-1:222222222222:execution:webapp-production-nightly:*"]
    assert sorted(r.rsplit("/", 1)[-1] for r in ends("PassJobRoles")) == [
        "webapp-production-nightly-runs", "webapp-production-nightly-scheduler"]
    # A job has no ECS service: the service statements name the services only.
    assert "service/webapp-production/nightly" not in json.dumps(by_sid["WorkloadVerdict"])


def test_a_topic_fans_out_encrypted_tls_only_and_only_its_publishers_may_publish(apps):
    _, stacks = apps["with_admin"]
    foundation, service_stack = stacks["production"]["foundation"], stacks["production"]["service"]
    (topic_id, topic), = [(lid, t) for lid, t in _of(foundation, "AWS::SNS::Topic").items() if t.get("TopicName")]
    assert topic["TopicName"] == "webapp-production-placed" and "alias/aws/sns" in json.dumps(topic["KmsMasterKeyId"])
    policies = [p for p in _of(foundation, "AWS::SNS::TopicPolicy").values() if {"Ref": topic_id} in p["Topics"]]
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for p in policies for s in p["PolicyDocument"]["Statement"])
    (subscription,) = [p for p in _of(foundation, "AWS::SNS::Subscription").values() if p["Protocol"] == "sqs"]
    assert subscription["Protocol"] == "sqs" and subscription["RawMessageDelivery"] is True
    queue_policy = next(p for p in _of(foundation, "AWS::SQS::QueuePolicy").values()
                        if any(s.get("Principal") == {"Service": "sns.amazonaws.com"} for s in p["PolicyDocument"]["Statement"]))
    (admits,) = [s for s in queue_policy["PolicyDocument"]["Statement"] if s.get("Principal") == {"Service": "sns.amazonaws.com"}]
    assert admits["Action"] == "sqs:SendMessage" and admits["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}
    # The admin publishes (its ARN in its variables, sns:Publish on it alone); [service] and the job may not.
    families = {p["Family"]: p for p in _of(service_stack, "AWS::ECS::TaskDefinition").values()}
    variables = {e["Name"] for e in families["webapp-production-admin"]["ContainerDefinitions"][0]["Environment"]}
    assert "SHIPYARD_TOPIC_PLACED_ARN" in variables
    assert not any("SHIPYARD_TOPIC" in e["Name"] for f in ("webapp-production-web", "webapp-production-nightly")
                   for e in families[f]["ContainerDefinitions"][0]["Environment"])
    publishing = [(lid, s) for lid, p in _of(service_stack, "AWS::IAM::Policy").items()
                  for s in p["PolicyDocument"]["Statement"] if "sns:Publish" in json.dumps(s["Action"])]
    assert len(publishing) == 1 and publishing[0][0].startswith("Admin"), publishing
