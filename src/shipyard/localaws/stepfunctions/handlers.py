"""Step Functions: executions that run (run.py), and state machines made by CloudFormation with their logging and
tracing configuration (moto's CloudFormation model drops both)."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from moto.stepfunctions import models
from moto.stepfunctions.models import stepfunctions_backends

from shipyard.localaws.core.base import lower_keys, patch, properties, wrap
from shipyard.localaws.stepfunctions import run


def _configuration(props: dict[str, Any]) -> dict[str, Any]:
    """LoggingConfiguration and TracingConfiguration of the template, in the API's shape."""
    return {"logging_configuration": lower_keys(props["LoggingConfiguration"]) if "LoggingConfiguration" in props else None,
            "tracing_configuration": lower_keys(props["TracingConfiguration"]) if "TracingConfiguration" in props else None}


def _configured(original: Any) -> Any:
    """A create or an update of a state machine by CloudFormation, then its logging and tracing as the template says."""
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        machine = original(*args, **kwargs)
        given = signature.bind(*args, **kwargs).arguments
        return stepfunctions_backends[given["account_id"]][given["region_name"]].update_state_machine(
            machine.arn, **_configuration(properties(given["cloudformation_json"])))

    return staticmethod(wrapper)


def _start_execution(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, region_name: str, account_id: str, execution_name: str, execution_input: str) -> Any:
        known = {e.execution_arn for e in self.executions}
        execution = original(self, region_name, account_id, execution_name, execution_input)
        if execution.execution_arn not in known:  # a new execution, not the idempotent answer to a repeated start
            run.start(execution, self.definition)
        return execution

    return wrapper


def reset() -> None:
    run.reset()


def install() -> None:
    patch(models.StateMachine, "create_from_cloudformation_json", _configured(models.StateMachine.create_from_cloudformation_json),
          corrects="a state machine made by CloudFormation drops the template's LoggingConfiguration and TracingConfiguration")
    patch(models.StateMachine, "update_from_cloudformation_json", _configured(models.StateMachine.update_from_cloudformation_json),
          corrects="(with the above) a stack update of a state machine changes only its definition and role")
    wrap(models.StateMachine, "start_execution", _start_execution,
         corrects="StartExecution records an execution that never runs; run.py runs its states (ecs:runTask.sync, Choice, "
                  "Succeed, Fail) and reports its outcome and metrics")
