"""A Step Functions execution of the embedded AWS: the states of a scheduled job's state machine, run for real.

moto records an execution and never runs it. This runs the states shipyard's blueprint writes
(blueprint/scheduled_job.py) the way Step Functions documents them (Amazon States Language):

- Task with `arn:aws:states:::ecs:runTask.sync`: RunTask with the state's Parameters (through the embedded AWS's own
  ECS API, as Step Functions calls ECS), then wait until the task stops. The state's result is the stopped task as
  DescribeTasks reports it, with Step Functions' capitalized keys (`$.Containers[0].ExitCode`); the integration
  succeeds whatever the exit code. Past TimeoutSeconds the state fails with States.Timeout and the task is stopped.
  ResultSelector picks from the result.
- Choice with NumericEquals on a path; Succeed; Fail with its Error and Cause.

Anything else fails the execution with States.Runtime naming what the embedded AWS does not run, never silently.
The execution's status, output, error and cause are what DescribeExecution reports, and AWS/States gets the
execution metrics (ExecutionsStarted, ExecutionsSucceeded, ExecutionsFailed, ExecutionsTimedOut; Step Functions
developer guide, "Monitoring Step Functions metrics using Amazon CloudWatch") that the job's alarm watches.
TimeoutSeconds is an AWS timer, compressed like the others (pace.local), but never shorter than RUN_AT_LEAST real
seconds: a job's process starts and works at its own speed.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from shipyard.localaws.core import own_api, pace
from shipyard.localaws.core.base import lower_keys

RUN_TASK_SYNC = re.compile(r"^arn:aws[a-z-]*:states:::ecs:runTask\.sync$")
RUN_AT_LEAST = 5.0
POLL = 0.2
_stopping = threading.Event()


class StateFailed(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def start(execution: Any, definition: str) -> None:
    """Run `execution` (moto's record of it) in a thread of its own."""
    threading.Thread(target=_run, args=(execution, definition), daemon=True, name=f"sfn-{execution.name}").start()


def reset() -> None:
    _stopping.set()
    time.sleep(POLL * 2)
    _stopping.clear()


def _run(execution: Any, definition: str) -> None:
    account, region, machine = execution.account_id, execution.region_name, execution.state_machine_arn
    _metric(account, region, machine, "ExecutionsStarted")
    try:
        states = json.loads(definition)
        data: Any = json.loads(execution.execution_input or "{}")
        name = states["StartAt"]
        while True:
            state = states["States"][name]
            kind = state.get("Type")
            if kind == "Task":
                data = _task(account, region, execution.name, state, data)
            elif kind == "Choice":
                name = _choose(state, data)
                continue
            elif kind == "Succeed":
                break
            elif kind == "Fail":
                raise StateFailed(state.get("Error", "States.Failed"), state.get("Cause", ""))
            else:
                raise StateFailed("States.Runtime", f"the embedded AWS does not run {kind} states")
            if state.get("End"):
                break
            name = state["Next"]
    except StateFailed as failed:
        timed_out = failed.error == "States.Timeout"
        _finish(execution, "FAILED", error=failed.error, cause=failed.cause)
        _metric(account, region, machine, "ExecutionsTimedOut" if timed_out else "ExecutionsFailed")
        return
    except (KeyError, ValueError, TypeError) as exc:
        _finish(execution, "FAILED", error="States.Runtime", cause=f"the definition cannot be run: {exc!r}")
        _metric(account, region, machine, "ExecutionsFailed")
        return
    _finish(execution, "SUCCEEDED", output=json.dumps(data))
    _metric(account, region, machine, "ExecutionsSucceeded")


def _task(account: str, region: str, execution: str, state: dict[str, Any], data: Any) -> Any:
    resource = state.get("Resource", "")
    if not RUN_TASK_SYNC.match(resource):
        raise StateFailed("States.Runtime", f"the embedded AWS runs no Task resource {resource!r} (only ecs:runTask.sync)")
    ecs = own_api.client(account, "ecs", region)
    parameters = lower_keys(_resolve(state.get("Parameters", {}), data))
    started = ecs.run_task(startedBy=f"AWS Step Functions {execution}"[:128], **parameters)
    if started.get("failures") or not started.get("tasks"):
        raise StateFailed("ECS.AmazonECSException", json.dumps(started.get("failures", []), default=str))
    arn, cluster = started["tasks"][0]["taskArn"], parameters.get("cluster")
    timeout = state.get("TimeoutSeconds")
    deadline = None if timeout is None else time.monotonic() + max(pace.local(float(timeout)), min(float(timeout), RUN_AT_LEAST))
    while not _stopping.wait(POLL):
        task = ecs.describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            result = _capitalized(task)
            return _resolve(state["ResultSelector"], result) if "ResultSelector" in state else result
        if deadline is not None and time.monotonic() > deadline:
            ecs.stop_task(cluster=cluster, task=arn, reason=f"Step Functions: the state timed out after {timeout} s")
            raise StateFailed("States.Timeout", f"the task {arn.rsplit('/', 1)[-1]} ran past TimeoutSeconds ({timeout})")
    raise StateFailed("States.Runtime", "the embedded AWS stopped")


def _choose(state: dict[str, Any], data: Any) -> str:
    for choice in state.get("Choices", []):
        if set(choice) - {"Variable", "NumericEquals", "Next"}:
            raise StateFailed("States.Runtime", f"the embedded AWS evaluates NumericEquals choices only, not {sorted(choice)}")
        value = _path(data, choice["Variable"])
        if isinstance(value, int | float) and not isinstance(value, bool) and value == choice["NumericEquals"]:
            return choice["Next"]
    if "Default" not in state:
        raise StateFailed("States.NoChoiceMatched", "no choice matched and the state has no Default")
    return state["Default"]


def _resolve(template: Any, data: Any) -> Any:
    """Parameters and ResultSelector: a key ending in `.$` takes the value at its path."""
    if isinstance(template, dict):
        return {(key[:-2] if key.endswith(".$") else key): (_path(data, value) if key.endswith(".$") else _resolve(value, data))
                for key, value in template.items()}
    if isinstance(template, list):
        return [_resolve(item, data) for item in template]
    return template


def _path(data: Any, path: str) -> Any:
    """A reference path: $, then .Name and [index] steps."""
    if not path.startswith("$"):
        raise StateFailed("States.Runtime", f"{path!r} is not a reference path")
    value = data
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path[1:]):
        try:
            value = value[name] if name else value[int(index)]
        except (KeyError, IndexError, TypeError):
            raise StateFailed("States.Runtime", f"the path {path} matches nothing in the state's input") from None
    return value


def _capitalized(node: Any) -> Any:
    if isinstance(node, dict):
        return {key[:1].upper() + key[1:]: _capitalized(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_capitalized(item) for item in node]
    return node.isoformat() if isinstance(node, datetime) else node


def _finish(execution: Any, status: str, *, output: str | None = None, error: str | None = None, cause: str | None = None) -> None:
    execution.status, execution.stop_date = status, datetime.now(UTC)
    execution.output, execution.error, execution.cause = output, error, cause


def _metric(account: str, region: str, machine: str, name: str) -> None:
    own_api.client(account, "cloudwatch", region).put_metric_data(Namespace="AWS/States", MetricData=[{
        "MetricName": name, "Dimensions": [{"Name": "StateMachineArn", "Value": machine}], "Value": 1.0, "Unit": "Count"}])
