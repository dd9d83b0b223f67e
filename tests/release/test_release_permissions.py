"""The deploy role allows every call of the release path, and nothing broader.

What CI runs with an environment's deploy role (release, a failed release and its automatic rollback, promote,
rollback, publish-site) runs here on the embedded AWS with every AWS call recorded. Each call becomes the IAM
request AWS would authorize (action, resource ARNs, context); the role's live policies, read back from IAM,
must allow it. What CloudFormation calls with the same session for the resources a release changes comes from
the change sets of those releases and the handler permissions AWS publishes in the CloudFormation resource
schemas. Calls the recorded runs cannot reach (the release modules' own AWS calls, found in their source) are
checked too. Then the other direction: every action the role grants must be needed by one of these, and a "*"
resource only for actions that support no resource scope.
"""

from __future__ import annotations

import ast
import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest

from shipyard.aws import Aws
from shipyard.blueprint.identity import NO_RESOURCE_SCOPE
from shipyard.deploy.site import publish_environment
from shipyard.release.release import ReleaseFailed, ReleaseOptions, promote, release, rollback
from tests.conftest import own_example_fixtures
from tests.release import iam_model
from tests.release.conftest import PACE_FACTOR, build_image
from tests.release.iam_model import ACTION_OF, IAM_PREFIX, Request

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first

ROOT = Path(__file__).resolve().parents[2]
RELEASE_MODULES = sorted((ROOT / "src" / "shipyard" / "release").glob("*.py"))

# Release-module calls that only an environment with the feature makes (and only its deploy role is granted).
ONLY_WHERE = {("application-autoscaling", op): (lambda env: env.schedule is not None)  # awake hours (release/awake.py)
              for op in ("DescribeScalableTargets", "RegisterScalableTarget", "PutScheduledAction", "DescribeScheduledActions",
                         "DeleteScheduledAction")}
# A worker's bake (release/worker_watch.py): only an app with a worker makes these, and its workloads' policy grants
# them (identity.WORKER_VERDICT, tests/blueprint/test_workloads.py); the single-service example has none.
ONLY_WHERE.update({("sqs", op): (lambda env: False) for op in ("GetQueueUrl", "GetQueueAttributes")})
# A job's verdict and its runs (release/job_run.py): only an app with a scheduled job makes these, and its workloads'
# policy grants them (identity.JOB_READ, JOB_RUN, JOB_EXECUTION; tests/blueprint/test_workloads.py).
ONLY_WHERE.update({("stepfunctions", op): (lambda env: False) for op in ("DescribeStateMachine", "StartExecution", "DescribeExecution")})

# Handler permissions of the schemas that the role does not need, each with the reason.
NOT_NEEDED = {
    "lambda:GetProvisionedConcurrencyConfig": "the scalable-target handler calls it for Lambda targets only; this one is ECS",
    "lambda:PutProvisionedConcurrencyConfig": "the scalable-target handler calls it for Lambda targets only",
    "lambda:DeleteProvisionedConcurrencyConfig": "the scalable-target handler calls it for Lambda targets only",
    "iam:CreateServiceLinkedRole": "Application Auto Scaling's ECS service-linked role exists since the administrator's first deploy",
}
# Needed by what is not a shipyard AWS call, each with the reason.
OUTSIDE_SHIPYARD = {
    "ssm:GetParameters": "CloudFormation resolves the service stack's AWS::SSM::Parameter::Value parameter with the "
                         "caller's session (CloudFormation user guide, SSM parameter types)",
    "ecr:GetAuthorizationToken": "the registry login of the image push (docker login in CI's image job)",
}
# Granted for what CI runs besides the recorded flows: `shipyard explain` and `status` after a failed job.
DIAGNOSIS = {"ecs:DescribeTasks", "ecs:ListTasks", "logs:FilterLogEvents", "logs:GetLogEvents",
             "elasticloadbalancing:DescribeTargetGroups", "cloudformation:GetTemplate", "ssm:GetParameterHistory"}


def _options(url: str) -> ReleaseOptions:
    return ReleaseOptions(health_url=url, rollout_timeout=20, health_timeout=2, health_successes=2, health_interval=0.1)


class Recorder:
    """Every Aws.call of the flows: (environment whose role makes it, service, operation, region, arguments, answer,
    the account the call reaches)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, dict[str, Any], Any, str]] = []
        self.role_of: str = ""

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original = Aws.call
        recorder = self

        def call(aws: Aws, service: str, operation: str, region: str, /, **kwargs: Any) -> Any:
            answer = original(aws, service, operation, region, **kwargs)
            recorder.calls.append((recorder.role_of, service, operation, region, kwargs, answer, aws.account))
            return answer

        monkeypatch.setattr(Aws, "call", call)


def _arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def request_for(env: Any, service: str, operation: str, region: str, kwargs: dict[str, Any],
                stacks_of_change_sets: dict[str, str], account: str | None = None) -> Request | None:
    """The IAM request AWS authorizes for one SDK call with this environment's role (Service Authorization Reference);
    `account` is the account whose resource the call reaches (another environment's registry, when promoting)."""
    names = env.names
    account = account or env.account
    action = ACTION_OF.get((service, operation), f"{IAM_PREFIX.get(service, service)}:{operation}")
    if service == "sts":
        return None  # GetCallerIdentity needs no permission
    if service == "ecr":
        registry = kwargs.get("registryId", account)
        return Request(action, (_arn("ecr", region, registry, f"repository/{kwargs['repositoryName']}"),))
    if service == "ssm":
        return Request(action, (_arn("ssm", region, account, f"parameter{kwargs['Name']}"),))
    if service == "cloudformation":
        stack = kwargs.get("StackName") or stacks_of_change_sets[kwargs["ChangeSetName"]]
        return Request(action, (_arn("cloudformation", region, account, f"stack/{stack}/id"),))
    if service == "ecs":
        service_arn = _arn("ecs", region, account, f"service/{names.cluster}/{names.service}")
        arns = {"DescribeServices": [_arn("ecs", region, account, f"service/{kwargs.get('cluster')}/{s}") for s in kwargs.get("services", [])],
                "ListServiceDeployments": [service_arn],
                "DescribeServiceDeployments": kwargs.get("serviceDeploymentArns", []),
                "StopServiceDeployment": [kwargs.get("serviceDeploymentArn")],
                "DescribeTasks": kwargs.get("tasks", []),
                "RunTask": [kwargs.get("taskDefinition")],
                "StopTask": [kwargs.get("task")],
                "ListTasks": [_arn("ecs", region, account, f"container-instance/{kwargs.get('cluster')}/*")]}[operation]
        if operation == "RunTask":
            return Request(action, tuple(arns), {"ecs:cluster": _arn("ecs", region, account, f"cluster/{kwargs.get('cluster')}")})
        return Request(action, tuple(arns))
    if service == "elbv2":
        return Request(action, ("*",))
    if service == "application-autoscaling":  # no resource-level scope; RegisterScalableTarget by the target's tags
        return Request(action, ("*",), {"aws:ResourceTag/shipyard:environment": names.environment}
                       if operation in ("RegisterScalableTarget", "PutScheduledAction", "DeleteScheduledAction") else {})
    if service == "cloudwatch":
        return Request(action, tuple(_arn("cloudwatch", region, account, f"alarm:{n}") for n in kwargs["AlarmNames"]))
    if service == "logs":
        return Request(action, (_arn("logs", region, account, f"log-group:{kwargs['logGroupName']}:*"),))
    if service == "s3":
        bucket = kwargs["Bucket"]
        if operation == "DeleteObjects":
            return Request(action, tuple(f"arn:aws:s3:::{bucket}/{o['Key']}" for o in kwargs["Delete"]["Objects"]))
        key = kwargs.get("Key")
        return Request(action, (f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}",))
    if service == "cloudfront":
        return Request(action, (f"arn:aws:cloudfront::{account}:distribution/{kwargs['DistributionId']}",))
    raise AssertionError(f"{service}.{operation}: no IAM mapping; add one to request_for")


def handler_permissions(change_sets: list[dict[str, Any]], region: str) -> set[str]:
    """What CloudFormation calls with the caller's session to carry out these change sets (the schemas' handlers)."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    needed = set()
    for change_set in change_sets:
        for change in change_set.get("Changes", []):
            resource = change["ResourceChange"]
            handlers = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource["ResourceType"]).schema["handlers"]
            kinds = {"Add": ["create"], "Remove": ["delete"], "Modify": ["update"]}[resource["Action"]]
            if resource.get("Replacement") in ("True", "Conditional"):
                kinds += ["create", "delete"]
            for kind in kinds:
                needed.update(handlers[kind]["permissions"])
    return needed


def _operations_of_clients() -> tuple[dict[str, str], dict[tuple[str, str], set[tuple[str, str]]]]:
    """From the AWS boundary's source: accessor of Aws -> client class, and (class, method) -> the (service, operation)
    pairs that method calls (each operation is spelled once, in its client's module)."""
    boundary = ROOT / "src" / "shipyard" / "aws"
    accessors = {node.name: node.returns.id for node in ast.walk(ast.parse((boundary / "__init__.py").read_text()))
                 if isinstance(node, ast.FunctionDef) and isinstance(node.returns, ast.Name)}
    methods: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for module in boundary.glob("*.py"):
        for cls in (n for n in ast.walk(ast.parse(module.read_text())) if isinstance(n, ast.ClassDef)):
            service = next((n.value.value for n in cls.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
                            and any(isinstance(t, ast.Name) and t.id == "service" for t in n.targets)), None)
            if service is None:
                continue
            for function in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
                methods[(cls.name, function.name)] = {
                    (service, call.args[0].value) for call in ast.walk(function)
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("_call", "_pages", "_found")
                    and call.args and isinstance(call.args[0], ast.Constant)}
    return accessors, methods


def _release_module_calls() -> set[tuple[str, str]]:
    """(service, operation) of every AWS call the release modules can make, reached or not by the flows: the methods
    of the typed clients each module takes (aws.<service>(...)) and calls."""
    accessors, methods = _operations_of_clients()
    found = set()
    for module in RELEASE_MODULES:
        tree = ast.parse(module.read_text())
        called = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        classes = {accessors[name] for name in called if name in accessors}
        for (cls, method), operations in methods.items():
            if cls in classes and method in called:
                found |= operations
        if "caller_account" in called:
            found.add(("sts", "GetCallerIdentity"))
    return found


def _sample_arguments(env: Any, service: str, operation: str) -> dict[str, Any]:
    """Arguments for a call the flows did not make, as the release modules make it."""
    names = env.names
    return {"ecr": {"repositoryName": names.repository}, "ssm": {"Name": names.image_parameter},
            "cloudformation": {"StackName": names.service_stack},
            "ecs": {"cluster": names.cluster, "services": [names.service],
                    "task": f"arn:aws:ecs:{env.region}:{env.account}:task/{names.cluster}/x",
                    "taskDefinition": f"arn:aws:ecs:{env.region}:{env.account}:task-definition/{names.one_off_family}:1",
                    "serviceDeploymentArn": f"arn:aws:ecs:{env.region}:{env.account}:service-deployment/{names.cluster}/{names.service}/x",
                    "serviceDeploymentArns": []},
            "cloudwatch": {"AlarmNames": [names.budget_alarm]}, "elbv2": {}, "logs": {"logGroupName": names.log_group},
            "application-autoscaling": {}}[service]


# The recorded flows begin with an environment's first release (0 -> 2 tasks): the example in accounts of its own,
# which no other module has released to.
example_config, assemblies, deployed = own_example_fixtures()


@pytest.fixture(scope="module")
def recorded(deployed, assemblies, example_config, health_server, tmp_path_factory, local_aws):
    staging, production = assemblies["staging"], assemblies["production"]
    s_aws, p_aws = deployed["staging"], deployed["production"]
    path = example_config.service.health_check_path
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SHIPYARD_LOCAL_PACE_FACTOR", PACE_FACTOR)
        good = build_image(s_aws, staging.environment, "perm001")
        recorder.install(patch)
        recorder.role_of = "staging"
        release(s_aws, staging, "perm001", _options(health_server), health_path=path)  # the first: 0 -> 2 tasks
        release(s_aws, staging, "perm001", _options(health_server), health_path=path)  # already running: no changes
        site = tmp_path_factory.mktemp("site")
        shutil.copytree(example_config.site_directory, site, dirs_exist_ok=True)
        (site / "changed.txt").write_text("a change to upload and invalidate")
        publish_environment(s_aws, staging.environment, site)
        (site / "changed.txt").unlink()
        publish_environment(s_aws, staging.environment, site)  # and a deletion
        recorder.role_of = "production"
        # As CI's production job does: with the digest, so staging is read only through its registry.
        promote(s_aws, staging, p_aws, production, _options(health_server), health_path=path, digest=good.digest)
        recorder.role_of = ""
        bad = build_image(p_aws, production.environment, "perm002", "crash")
        recorder.role_of = "production"
        with pytest.raises(ReleaseFailed):
            release(p_aws, production, bad.reference, _options(health_server), health_path=path)
        recorder.role_of = ""
        second = build_image(s_aws, staging.environment, "perm003")
        # Staging's awake hours end: the next release wakes it (Application Auto Scaling, on the role's behalf).
        local_aws.run_scheduled_action(staging.environment.account, staging.environment.region, "Sleep")
        recorder.role_of = "staging"
        # With migrations: the one-off image, its task definition through the service stack, two one-off tasks.
        release(s_aws, staging, second.reference, dataclasses.replace(
            _options(health_server), migrate=example_config.release.migrate_command, migrate_timeout=60), health_path=path)
        rollback(s_aws, staging, _options(health_server), health_path=path)
        recorder.role_of = ""
        stuck = build_image(s_aws, staging.environment, "perm004", "stuck")
        recorder.role_of = "staging"
        with pytest.raises(ReleaseFailed):  # past its rollout timeout: CancelUpdateStack, then the automatic rollback
            release(s_aws, staging, stuck.reference, dataclasses.replace(_options(health_server), rollout_timeout=1.5),
                    health_path=path)
    assert good.digest
    assert any(op == "RegisterScalableTarget" for role, _s, op, *_ in recorder.calls if role == "staging"), "no release woke staging"
    return recorder


def _requests(recorded: Recorder, env: Any) -> list[tuple[str, Request]]:
    change_sets = {}
    requests = []
    for role, service, operation, region, kwargs, answer, account in recorded.calls:
        if role != env.name:
            continue
        if (service, operation) == ("cloudformation", "CreateChangeSet"):
            change_sets[answer["Id"]] = kwargs["StackName"]
        request = request_for(env, service, operation, region, kwargs, change_sets, account)
        if request is not None:
            requests.append((f"{service}.{operation}", request))
        if (service, operation) == ("application-autoscaling", "RegisterScalableTarget"):
            # Application Auto Scaling first checks that the caller may describe and update the target service, with
            # the caller's permissions in a forward access session (Application Auto Scaling user guide, "Permissions
            # validation for Application Auto Scaling API calls on target resources"; ECS developer guide, "IAM
            # permissions required for Amazon ECS service auto scaling"). IAM sets aws:ViaAWSService on such a request;
            # aws:CalledVia names only the services that support it (IAM user guide, "AWS global condition context keys").
            target = _arn("ecs", region, account, kwargs["ResourceId"])  # ResourceId is service/<cluster>/<service>
            for validation in ("ecs:DescribeServices", "ecs:UpdateService"):
                requests.append((f"{service}.{operation} (validates {validation})",
                                 Request(validation, (target,), {"aws:ViaAWSService": "true"})))
        if (service, operation) == ("ecs", "RunTask"):  # ECS checks that the caller may pass the task definition's roles
            roles = tuple(f"arn:aws:iam::{account}:role/{r}" for r in (env.names.task_role, env.names.execution_role))
            requests.append(("ecs.RunTask (PassRole)", Request("iam:PassRole", roles, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})))
    return requests


def _change_sets(recorded: Recorder, env: Any) -> list[dict[str, Any]]:
    return [answer for role, service, operation, _region, _kwargs, answer, _account in recorded.calls
            if role == env.name and (service, operation) == ("cloudformation", "DescribeChangeSet")]


@pytest.mark.parametrize("name", ["staging", "production"])
def test_the_deploy_role_allows_every_call_of_the_release_path(recorded, deployed, assemblies, name):
    env = assemblies[name].environment
    documents = iam_model.live_policies(deployed[name], env.names.deploy_role)
    requests = _requests(recorded, env)
    assert len(requests) > 20, "the recorded flows made too few calls to prove anything"
    denied = [f"{call}: {r.action} on {', '.join(r.resources)}" for call, r in requests if not iam_model.allowed(documents, r)]
    assert not denied, "the deploy role denies:\n" + "\n".join(denied)

    # Calls of the release modules that these runs did not reach (StartImageScan when ECR has no scan yet, ...).
    made = {(s, o) for role, s, o, *_ in recorded.calls if role == name}
    for service, operation in sorted(_release_module_calls() - made):
        if not ONLY_WHERE.get((service, operation), lambda _: True)(env):
            continue
        request = request_for(env, service, operation, env.region, _sample_arguments(env, service, operation), {})
        if request is not None and request.resources:
            assert iam_model.allowed(documents, request), f"{service}.{operation}: {request.action} is denied"

    needed = handler_permissions(_change_sets(recorded, env), env.region) - set(NOT_NEEDED)
    assert needed, "no change set was recorded"
    granted = iam_model.granted_actions(documents)
    assert not needed - granted, f"CloudFormation needs {sorted(needed - granted)} for a release's stack update"


@pytest.mark.parametrize("name", ["staging", "production"])
def test_the_deploy_role_grants_nothing_the_release_path_does_not_need(recorded, deployed, assemblies, name):
    env = assemblies[name].environment
    documents = iam_model.live_policies(deployed[name], env.names.deploy_role)
    # Every environment's role has the same shape: what any environment's flows needed is needed.
    everyone = [a.environment for a in assemblies.values()]
    used = {r.action for e in everyone for _, r in _requests(recorded, e)}
    used |= {ACTION_OF.get((s, o), f"{IAM_PREFIX.get(s, s)}:{o}") for s, o in _release_module_calls()}
    used |= {p for e in everyone for p in handler_permissions(_change_sets(recorded, e), e.region)}
    unused = iam_model.granted_actions(documents) - used - DIAGNOSIS - set(OUTSIDE_SHIPYARD)
    assert not unused, f"granted but never needed: {sorted(unused)}"
    for statement in iam_model.statements(documents):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in actions and not any(a.endswith(":*") for a in actions), statement
        if "*" in resources:
            assert set(actions) <= set(NO_RESOURCE_SCOPE), f"'*' resource for {set(actions) - set(NO_RESOURCE_SCOPE)}"
