from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk.assertions import Template

from shipyard.blueprint.load_balancer import LoadBalancer
from shipyard.blueprint.network import Network
from shipyard.blueprint.service import Service
from shipyard.naming import NO_IMAGE, Names

from .helpers import bare_stack, only


def _template(**overrides) -> Template:
    stack = bare_stack()
    network = Network(stack, "N")
    lb = LoadBalancer(stack, "L", vpc=network.vpc, subnets=network.load_balancer_subnets, name="webapp-staging",
                      target_port=8000, health_check_path="/healthz", deletion_protection=False)
    props = dict(
        vpc=network.vpc, subnets=network.task_subnets, security_group=lb.target_security_group,
        target_group=lb.target_group, alternate_target_group=lb.alternate_target_group,
        production_rule=lb.production_rule, repository=ecr.Repository(stack, "Repo"),
        names=Names("webapp", "staging", "123456789012"), log_retention_days=30, architecture="arm64",
        cpu=256, memory=512, port=8000, desired_count=2, max_count=4, cpu_target=70, stop_timeout=30,
        health_check_grace_seconds=30, environment={"LOG_LEVEL": "info"},
        secrets={"DB_URL": "secretsmanager:webapp/db", "API_KEY": "ssm:/webapp/api-key"},
        container_insights=True, retain_logs=False,
    )
    props.update(overrides)
    Service(stack, "S", **props)
    assert isinstance(lb.target_group, elbv2.ApplicationTargetGroup)
    return Template.from_stack(stack)


def _task(template: Template, family: str = "webapp-staging-web") -> dict:
    return next(r["Properties"] for r in template.find_resources("AWS::ECS::TaskDefinition").values()
                if r["Properties"]["Family"] == family)


def test_image_comes_from_the_ssm_parameter():
    template = _template()
    parameters = template.to_json()["Parameters"]
    image = next(k for k, v in parameters.items() if v.get("Default") == "/shipyard/webapp/staging/image")
    assert parameters[image]["Type"] == "AWS::SSM::Parameter::Value<String>"
    container = _task(template)["ContainerDefinitions"][0]
    assert container["Image"] == {"Ref": image}


def test_one_off_tasks_are_the_same_container_with_their_own_image_and_no_port():
    template = _template()
    service, one_off = _task(template), _task(template, "webapp-staging-one-off")
    parameters = template.to_json()["Parameters"]
    image = next(k for k, v in parameters.items() if v.get("Default") == "/shipyard/webapp/staging/one-off-image")
    container, web = one_off["ContainerDefinitions"][0], service["ContainerDefinitions"][0]
    assert container["Image"] == {"Ref": image} and container["Name"] == web["Name"] == "web"
    assert "PortMappings" not in container and web["PortMappings"][0]["ContainerPort"] == 8000
    assert (one_off["TaskRoleArn"], one_off["ExecutionRoleArn"]) == (service["TaskRoleArn"], service["ExecutionRoleArn"])
    assert container["Secrets"] == web["Secrets"]
    assert container["LogConfiguration"]["Options"]["awslogs-stream-prefix"] == "one-off"


def test_zero_tasks_until_first_release():
    template = _template()
    condition = next(iter(template.to_json()["Conditions"].values()))
    assert condition["Fn::Not"][0]["Fn::Equals"][1] == NO_IMAGE
    service = only(template, "AWS::ECS::Service")
    name = next(iter(template.to_json()["Conditions"]))
    # After the first release the service names no count, so no stack update resets what autoscaling set.
    assert service["DesiredCount"] == {"Fn::If": [name, {"Ref": "AWS::NoValue"}, 0]}
    target = only(template, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["MinCapacity"] == {"Fn::If": [name, 2, 0]}
    assert target["MaxCapacity"] == 4


def test_task_size_architecture_and_logs():
    template = _template()
    task = _task(template)
    assert (task["Cpu"], task["Memory"]) == ("256", "512")
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    container = task["ContainerDefinitions"][0]
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    assert container["StopTimeout"] == 30
    assert container["ReadonlyRootFilesystem"] is True
    assert only(template, "AWS::Logs::LogGroup")["RetentionInDays"] == 30
    assert only(template, "AWS::ECS::Cluster")["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enabled"}]


def test_secrets_are_injected_never_plain():
    container = _task(_template())["ContainerDefinitions"][0]
    plain = {e["Name"] for e in container["Environment"]}
    assert plain == {"LOG_LEVEL", "SHIPYARD_ENVIRONMENT", "SHIPYARD_IMAGE"}  # the released image and environment, never a secret
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert set(secrets) == {"DB_URL", "API_KEY"}
    assert "secretsmanager" in str(secrets["DB_URL"]) and "webapp/db" in str(secrets["DB_URL"])
    assert "parameter/webapp/api-key" in str(secrets["API_KEY"])


def test_a_secret_named_per_environment_is_read_as_this_environments_and_a_name_without_its_slash_stays_so():
    container = _task(_template(secrets={"PAYMENT_KEY": "ssm:/copilot/webapp/{environment}/secrets/PAYMENT_KEY",
                                         "GITHUB_TOKEN": "ssm:GH_TOKEN_SECRET"}))["ContainerDefinitions"][0]
    secrets = {s["Name"]: str(s["ValueFrom"]) for s in container["Secrets"]}
    assert "parameter/copilot/webapp/staging/secrets/PAYMENT_KEY" in secrets["PAYMENT_KEY"] and "{environment}" not in secrets["PAYMENT_KEY"]
    assert "parameter/GH_TOKEN_SECRET" in secrets["GITHUB_TOKEN"]


def test_circuit_breaker_rollback_and_rollout_percentages():
    service = only(_template(), "AWS::ECS::Service")
    deployment = service["DeploymentConfiguration"]
    assert deployment["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}
    assert (deployment["MinimumHealthyPercent"], deployment["MaximumPercent"]) == (100, 200)
    assert service["HealthCheckGracePeriodSeconds"] == 30
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "ENABLED"
    assert service["LoadBalancers"][0]["ContainerPort"] == 8000


def test_cpu_target_tracking():
    policy = only(_template(), "AWS::ApplicationAutoScaling::ScalingPolicy")
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 70
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"


def test_x86_architecture():
    task = _task(_template(architecture="x86_64"))
    assert task["RuntimePlatform"]["CpuArchitecture"] == "X86_64"


def test_task_roles_are_named_and_trust_only_this_accounts_ecs():
    roles = _template().find_resources("AWS::IAM::Role")
    by_name = {r["Properties"].get("RoleName"): r["Properties"] for r in roles.values()}
    for name in ("webapp-staging-task", "webapp-staging-task-execution"):
        statement = by_name[name]["AssumeRolePolicyDocument"]["Statement"][0]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert set(statement["Condition"]) == {"StringEquals", "ArnLike"}
        assert "aws:SourceAccount" in statement["Condition"]["StringEquals"]
        assert "aws:SourceArn" in statement["Condition"]["ArnLike"]
    assert "webapp-staging-traffic-shift" in by_name
