"""Step Functions and EventBridge Scheduler: a scheduled job's state machine, its runs, and its schedule."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class StateMachine:
    arn: str
    definition: dict[str, Any]
    role_arn: str

    def ecs_runs(self) -> list[dict[str, Any]]:
        """The Parameters of each state that runs an ECS task (cluster, task definition, network configuration)."""
        return [state.get("Parameters", {}) for state in self.definition.get("States", {}).values()
                if str(state.get("Resource", "")).endswith(":states:::ecs:runTask.sync")]


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    started: datetime | None
    stopped: datetime | None
    output: dict[str, Any] | None
    error: str
    cause: str


@dataclass(frozen=True)
class Schedule:
    name: str
    expression: str
    timezone: str
    state: str  # ENABLED | DISABLED
    target_arn: str


class StepFunctions(ServiceApi):
    service = "stepfunctions"

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def state_machine(self, name: str) -> StateMachine | None:
        found = self._found("DescribeStateMachine", stateMachineArn=self.machine_arn(name))
        if found is None:
            return None
        return StateMachine(found["stateMachineArn"], json.loads(found.get("definition") or "{}"), found.get("roleArn", ""))

    def start(self, name: str, *, run_name: str) -> str:
        """Start one execution of the state machine `name` now; its ARN."""
        return self._call("StartExecution", stateMachineArn=self.machine_arn(name), name=run_name, input="{}")["executionArn"]

    def execution(self, arn: str) -> Execution:
        return _execution(self._call("DescribeExecution", executionArn=arn))

    def executions(self, name: str, *, newest: int = 10) -> list[Execution]:
        """The newest runs of the state machine `name`, newest first (summaries: no output, error or cause)."""
        found = self._found("ListExecutions", stateMachineArn=self.machine_arn(name), maxResults=newest)
        runs = [_execution(e) for e in (found or {}).get("executions", [])]
        return sorted(runs, key=lambda e: e.started or datetime.min, reverse=True)[:newest]


class Scheduler(ServiceApi):
    service = "scheduler"

    def schedule(self, name: str) -> Schedule | None:
        found = self._found("GetSchedule", Name=name)
        if found is None:
            return None
        return Schedule(found["Name"], found["ScheduleExpression"], found.get("ScheduleExpressionTimezone", "UTC"),
                        found.get("State", "ENABLED"), found.get("Target", {}).get("Arn", ""))


def _execution(found: dict[str, Any]) -> Execution:
    output = found.get("output")
    return Execution(found["executionArn"], found.get("name", ""), found.get("status", ""), found.get("startDate"),
                     found.get("stopDate"), json.loads(output) if output else None, found.get("error") or "", found.get("cause") or "")
