"""A task's containers in their dependsOn order on the embedded AWS, and a change set executed without its rollback.

ECS starts a container that waits for another (dependsOn COMPLETE or SUCCESS, which only a non-essential container
may be the target of) once that one has exited; a SUCCESS dependency that exits non-zero stops the task with the
dependency named (ECS API reference, ContainerDependency; amazon-ecs-agent#3218). ExecuteChangeSet with
DisableRollback keeps what a failed change made (CloudFormation API reference, ExecuteChangeSet). A preview's
[service] task makes its database and migrates it this way, and a failed new preview is taken apart in that order.
"""

from __future__ import annotations

import json
import time

import pytest

from shipyard.app.target import embedded
from shipyard.aws import Aws
from shipyard.blueprint.preview_database import POSTGRES_CLIENT_IMAGE
from shipyard.errors import ShipyardError

ACCOUNT, REGION = "333333333335", "eu-west-1"
GROUP = "/ordered"


def _template(*, first_essential: bool = False) -> str:
    def container(name: str, command: str, **more) -> dict:
        return {"Name": name, "Image": POSTGRES_CLIENT_IMAGE, "Command": ["sh", "-c", command], **more,
                "LogConfiguration": {"LogDriver": "awslogs", "Options": {
                    "awslogs-group": GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "run"}}}

    return json.dumps({"Resources": {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": GROUP}},
        "Task": {"Type": "AWS::ECS::TaskDefinition", "DependsOn": "Logs", "Properties": {
            "Family": "ordered", "NetworkMode": "awsvpc", "RequiresCompatibilities": ["FARGATE"], "Cpu": "256", "Memory": "512",
            "ContainerDefinitions": [
                container("app", "echo app started; sleep 60", Essential=True,
                          DependsOn=[{"ContainerName": "first", "Condition": "SUCCESS"}]),
                container("first", "echo first ran", Essential=first_essential)]}}}})


def _settled(aws: Aws, stack: str) -> str:
    deadline = time.monotonic() + 30
    while (status := aws.call("cloudformation", "DescribeStacks", REGION, StackName=stack)["Stacks"][0]["StackStatus"]).endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    return status


def _create(aws: Aws, stack: str, template: str, **execute) -> str:
    aws.call("cloudformation", "CreateChangeSet", REGION, StackName=stack, ChangeSetName="create", ChangeSetType="CREATE",
             TemplateBody=template)
    aws.call("cloudformation", "ExecuteChangeSet", REGION, StackName=stack, ChangeSetName="create", **execute)
    return _settled(aws, stack)


def _run(aws: Aws, **overrides) -> dict:
    """RunTask of the family, until its essential container runs or the task stops."""
    [task] = aws.call("ecs", "RunTask", REGION, cluster="ordered", launchType="FARGATE",
                      networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-1"]}},
                      **{"taskDefinition": "ordered", **overrides})["tasks"]
    deadline = time.monotonic() + 60
    while True:
        [task] = aws.call("ecs", "DescribeTasks", REGION, cluster="ordered", tasks=[task["taskArn"]])["tasks"]
        if task["lastStatus"] in ("RUNNING", "STOPPED"):
            return task
        assert time.monotonic() < deadline, task["lastStatus"]
        time.sleep(0.1)


def _lines(aws: Aws, container: str, task: dict) -> list[str]:
    stream = f"run/{container}/{task['taskArn'].rsplit('/', 1)[-1]}"
    try:
        events = aws.call("logs", "GetLogEvents", REGION, logGroupName=GROUP, logStreamName=stream)["events"]
    except ShipyardError:
        return []
    return [e["message"] for e in events]


@pytest.fixture(scope="module")
def aws(local_aws):
    aws = Aws(embedded(local_aws.endpoint), ACCOUNT)
    aws.call("ecs", "CreateCluster", REGION, clusterName="ordered")
    assert _create(aws, "ordered", _template()) == "CREATE_COMPLETE"
    return aws


def test_the_essential_container_starts_after_the_one_it_waits_for_exited_zero(aws):
    task = _run(aws)
    assert task["lastStatus"] == "RUNNING"
    first = next(c for c in task["containers"] if c["name"] == "first")
    assert (first["lastStatus"], first["exitCode"]) == ("STOPPED", 0)
    assert _lines(aws, "first", task) == ["first ran"]
    deadline = time.monotonic() + 10
    while _lines(aws, "app", task) != ["app started"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    aws.call("ecs", "StopTask", REGION, cluster="ordered", task=task["taskArn"])


def test_a_dependency_that_exits_non_zero_stops_the_task_and_the_essential_container_never_starts(aws):
    task = _run(aws, overrides={"containerOverrides": [{"name": "first", "command": ["sh", "-c", "echo failing; exit 3"]}]})
    assert task["lastStatus"] == "STOPPED"
    app = next(c for c in task["containers"] if c["name"] == "app")
    assert app["exitCode"] == 143 and "dependency" in app["reason"] and "first" in app["reason"] and "Exit: 3" in app["reason"]
    assert task["stopCode"] == "EssentialContainerExited"
    assert _lines(aws, "first", task) == ["failing"] and _lines(aws, "app", task) == []


def test_an_override_for_a_container_the_definition_lacks_is_refused(aws):
    with pytest.raises(ShipyardError, match="Override for container named second is not a container"):
        _run(aws, overrides={"containerOverrides": [{"name": "second", "command": ["true"]}]})


def test_a_failed_create_keeps_what_it_made_with_disable_rollback_and_rolls_back_without(aws):
    # A SUCCESS dependency on an essential container is refused by RegisterTaskDefinition: the Task fails, its log
    # group was made before it.
    bad = _template(first_essential=True)
    assert _create(aws, "kept", bad.replace(GROUP, "/kept"), DisableRollback=True) == "CREATE_FAILED"
    events = aws.call("cloudformation", "DescribeStackEvents", REGION, StackName="kept")["StackEvents"]
    assert any("cannot be an essential container" in e.get("ResourceStatusReason", "") for e in events)
    assert aws.call("logs", "DescribeLogGroups", REGION, logGroupNamePrefix="/kept")["logGroups"]
    aws.call("cloudformation", "DeleteStack", REGION, StackName="kept")
    _settled_or_gone(aws, "kept")
    assert not aws.call("logs", "DescribeLogGroups", REGION, logGroupNamePrefix="/kept")["logGroups"]

    assert _create(aws, "undone", bad.replace(GROUP, "/undone")) == "ROLLBACK_COMPLETE"
    assert not aws.call("logs", "DescribeLogGroups", REGION, logGroupNamePrefix="/undone")["logGroups"]


def _settled_or_gone(aws: Aws, stack: str) -> None:
    try:
        assert _settled(aws, stack) == "DELETE_COMPLETE"
    except ShipyardError as exc:
        assert "does not exist" in str(exc)


def _pair(aws: Aws, side_command: str) -> dict:
    """RunTask of a task of two essential containers: `web`, which is told where `side` listens, and `side`."""
    def container(name: str, command: str, port: int, **more) -> dict:
        return {"name": name, "image": POSTGRES_CLIENT_IMAGE, "command": ["sh", "-c", command], "essential": True,
                "portMappings": [{"containerPort": port}], **more, "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "run"}}}

    aws.call("ecs", "RegisterTaskDefinition", REGION, family="pair", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
             cpu="256", memory="512", containerDefinitions=[
                 container("web", "echo side at $SIDE_URL; exec python3 -m http.server $PORT --bind 127.0.0.1", 8000,
                           environment=[{"name": "SIDE_URL", "value": "http://127.0.0.1:8001/"}]),
                 container("side", side_command, 8001)])
    return _run(aws, taskDefinition="pair")


def _until(condition, what: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
    return found


def test_a_task_of_two_essential_containers_runs_both_each_reaching_the_other_on_its_own_port(aws):
    task = _pair(aws, "exec python3 -m http.server $PORT --bind 127.0.0.1")
    assert task["lastStatus"] == "RUNNING"
    web, side = (next(c for c in task["containers"] if c["name"] == name) for name in ("web", "side"))
    ports = {c["name"]: c["networkBindings"][0]["hostPort"] for c in (web, side)}
    assert ports["web"] != ports["side"]
    # What web was told (127.0.0.1:8001, the task's own network) is where side listens here.
    [line] = _until(lambda: _lines(aws, "web", task), "web's first line")
    assert line == f"side at http://127.0.0.1:{ports['side']}/"
    import urllib.request

    _until(lambda: _answers(f"http://127.0.0.1:{ports['side']}/", urllib.request), "side to answer")
    aws.call("ecs", "StopTask", REGION, cluster="ordered", task=task["taskArn"])
    stopped = _until(lambda: _stopped(aws, task), "the task to stop")
    _until(lambda: all(c["lastStatus"] == "STOPPED" for c in _stopped(aws, task)["containers"]), "both containers to stop")
    assert not _answers(f"http://127.0.0.1:{ports['side']}/", urllib.request) and stopped["desiredStatus"] == "STOPPED"


def test_when_one_essential_container_exits_ecs_stops_the_whole_task(aws):
    task = _pair(aws, "sleep 1; exit 4")
    stopped = _until(lambda: _stopped(aws, task), "the task to stop")
    side = next(c for c in stopped["containers"] if c["name"] == "side")
    assert side["exitCode"] == 4
    assert stopped["stopCode"] == "EssentialContainerExited" and stopped["stoppedReason"] == "Essential container in task exited"
    web = next(c for c in stopped["containers"] if c["name"] == "web")
    assert web["lastStatus"] == "STOPPED"


def _answers(url: str, request) -> bool:
    try:
        with request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stopped(aws: Aws, task: dict) -> dict | None:
    [found] = aws.call("ecs", "DescribeTasks", REGION, cluster="ordered", tasks=[task["taskArn"]])["tasks"]
    return found if found["lastStatus"] == "STOPPED" else None
