"""A scheduled job's run now, and its verdict in a release.

`shipyard run ENV --job NAME` and a release's `--smoke` start one execution of the job's state machine, as its
schedule would, and follow it to its end: SUCCEEDED (the container exited 0) or FAILED (another exit code, or past
its timeout). A job has no service: without --smoke a release judges it by what is true without a run, that its
state machine runs the task definition revision that holds the released image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from shipyard import ui
from shipyard.aws import Aws
from shipyard.aws.stepfunctions import Execution
from shipyard.config import Environment

FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class JobRun:
    execution: Execution

    @property
    def succeeded(self) -> bool:
        return self.execution.status == "SUCCEEDED"

    def describe(self) -> str:
        run = self.execution
        if self.succeeded:
            return f"run {run.name} succeeded (exit code {(run.output or {}).get('ExitCode', 0)})"
        why = f"{run.error}: {run.cause}" if run.error else "no reason given"
        return f"run {run.name} {run.status.lower().replace('_', ' ')}: {why}"


def run_job(aws: Aws, view: Environment, *, timeout: float, reason: str) -> JobRun:
    """Start one run of the job `view` is the view of, and wait (at most `timeout` seconds) for its end."""
    machines = aws.stepfunctions(view.region)
    run_name = f"{reason}-{time.strftime('%Y%m%dT%H%M%S')}-{int(time.time() * 1000) % 1000:03d}"
    arn = machines.start(view.names.state_machine, run_name=run_name)
    deadline = time.monotonic() + timeout
    with ui.waiting(f"{view.name}: {view.names.workload} run {run_name}") as show:
        while True:
            execution = machines.execution(arn)
            if execution.status in FINAL or time.monotonic() > deadline:
                return JobRun(execution)
            show(execution.status.lower())
            time.sleep(aws.target.lasts(2, at_least=0.2))


def judge_job(aws: Aws, view: Environment, task_definition: str, *, smoke: bool, timeout: float) -> list[str]:
    """A job of the set: its state machine runs `task_definition` (the revision of the released image); with `smoke`,
    one run that succeeds."""
    name = view.names.workload
    machine = aws.stepfunctions(view.region).state_machine(view.names.state_machine)
    if machine is None:
        return [f"{name}: its state machine {view.names.state_machine} does not exist"]
    runs = {str(run.get("TaskDefinition", "")).rsplit("/", 1)[-1] for run in machine.ecs_runs()}
    revision = task_definition.rsplit("/", 1)[-1]
    if runs != {revision}:
        return [f"{name}: its state machine runs {', '.join(sorted(runs)) or 'no task'}, not the released {revision}"]
    if not smoke:
        return []
    run = run_job(aws, view, timeout=timeout, reason="smoke")
    return [] if run.succeeded else [f"{name}: the smoke {run.describe()}"]
