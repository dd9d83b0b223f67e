"""Make the emulator's CloudFormation report like CloudFormation does.

moto creates resources synchronously, records only stack-level events, and
lets a failing resource escape as a server error with the stack left
IN_PROGRESS. shipyard wraps three of its functions so that, as on AWS:
- every resource gets *_IN_PROGRESS / *_COMPLETE / *_FAILED events with the reason;
- a failed create rolls back (created resources deleted) to ROLLBACK_COMPLETE;
- a failed update re-applies the previous template to UPDATE_ROLLBACK_COMPLETE;
- ExecuteChangeSet itself succeeds and the failure shows in events and status;
- stacks made through change sets import and export values like any other.
The deploy engine then reads the same signals from the emulator as from AWS.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)
_installed = False


def _stack_for(resources_map: Any) -> Any:
    from moto.cloudformation.models import cloudformation_backends

    backend = cloudformation_backends[resources_map._account_id][resources_map._region_name]
    return backend.stacks.get(resources_map.stack_id)


def _event(stack: Any, logical_id: str, physical_id: str, resource_type: str, status: str, reason: str | None = None) -> None:
    from moto.cloudformation.models import Event

    if stack is None:
        return
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                              physical_resource_id=physical_id, resource_type=resource_type, resource_status=status,
                              resource_status_reason=reason, resource_properties=None))


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    code = getattr(exc, "code", None) or getattr(exc, "error_type", None)
    return f"{message} (Service: emulator, Error Code: {code})" if isinstance(code, str) else message


def _with_events(original: Any, verb: str) -> Any:
    @functools.wraps(original)
    def wrapper(logical_id: str, resource_json: dict[str, Any], resources_map: Any, *args: Any, **kwargs: Any) -> Any:
        condition = resource_json.get("Condition")
        if verb == "CREATE" and condition and not resources_map.lazy_condition_map[condition]:
            return original(logical_id, resource_json, resources_map, *args, **kwargs)
        stack = _stack_for(resources_map)
        resource_type = resource_json.get("Type", "")
        _event(stack, logical_id, "", resource_type, f"{verb}_IN_PROGRESS")
        try:
            resource = original(logical_id, resource_json, resources_map, *args, **kwargs)
        except Exception as exc:
            _event(stack, logical_id, "", resource_type, f"{verb}_FAILED", _reason(exc))
            raise
        physical = getattr(resource, "physical_resource_id", "") if resource is not None else ""
        _event(stack, logical_id, str(physical or ""), resource_type, f"{verb}_COMPLETE")
        return resource

    return wrapper


def _execute_change_set(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        previous_template, previous_parameters = stack.template, dict(stack.resource_map.input_parameters)
        # moto wires exports into stacks made by CreateStack only; stacks made
        # through change sets must see and publish them too.
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        try:
            original(self, change_set_name, stack_name)
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.output_map = stack._create_output_map()
            self._validate_export_uniqueness(stack)
            for export in stack.exports:
                self.exports[export.name] = export
        except Exception as exc:  # roll back as CloudFormation would
            log.info("change set %s failed: %s", change_set_name, exc)
            change_set.execution_status = "EXECUTE_FAILED"
            failed = [e.logical_resource_id for e in stack.events if e.resource_status.endswith("_FAILED")]
            if change_set.change_set_type == "CREATE":
                stack._add_stack_event("ROLLBACK_IN_PROGRESS",
                                       resource_status_reason=f"The following resource(s) failed to create: [{', '.join(failed[-1:])}]. ")
                try:
                    stack.resource_map.delete()
                except Exception as cleanup:  # the emulator could not undo everything; say so
                    stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
                    stack.status = "ROLLBACK_FAILED"
                    return
                stack._add_stack_event("ROLLBACK_COMPLETE")
                stack.status = "ROLLBACK_COMPLETE"
            else:
                stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS",
                                       resource_status_reason=f"The following resource(s) failed to update: [{', '.join(failed[-1:])}]. ")
                try:
                    stack.resource_map.update(stack.parse_template(previous_template), previous_parameters)
                except Exception as cleanup:
                    stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
                    stack.status = "UPDATE_ROLLBACK_FAILED"
                    return
                stack.template = previous_template
                stack._parse_template()
                stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
                stack.status = "UPDATE_ROLLBACK_COMPLETE"

    return wrapper


# What the emulator knows about every request it serves.
_REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _condition_holds(operator: str, values: dict[str, Any]) -> bool:
    for key, expected in values.items():
        actual = _REQUEST_CONTEXT.get(key.lower())
        if actual is None:
            return False  # a key the emulator cannot know: the statement does not apply
        options = [str(v).lower() for v in (expected if isinstance(expected, list) else [expected])]
        if operator in ("Bool", "StringEquals", "StringEqualsIgnoreCase") and actual.lower() not in options:
            return False
        if operator not in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
            return False
    return True


def _bucket_permission(self: Any, action: str, resource: str) -> Any:
    import fnmatch
    import json

    from moto.iam.access_control import PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    statements = json.loads(self.policy.decode()).get("Statement", [])
    result = PermissionResult.NEUTRAL
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal")
        if principal not in ("*", {"AWS": "*"}):
            continue  # moto cannot tell who a signed request is; only anonymous-style grants apply
        actions = statement.get("Action", [])
        resources = statement.get("Resource", [])
        if not any(fnmatch.fnmatchcase(action, a) for a in (actions if isinstance(actions, list) else [actions])):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in (resources if isinstance(resources, list) else [resources])):
            continue
        if not all(_condition_holds(op, values) for op, values in statement.get("Condition", {}).items()):
            continue
        if statement.get("Effect") == "Deny":
            return PermissionResult.DENIED
        result = PermissionResult.PERMITTED
    return result


def install() -> None:
    """Wrap moto's CloudFormation once per process."""
    global _installed
    if _installed:
        return
    from moto.cloudformation import models, parsing
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = _bucket_permission

    parsing.parse_and_create_resource = _with_events(parsing.parse_and_create_resource, "CREATE")
    parsing.parse_and_update_resource = _with_events(parsing.parse_and_update_resource, "UPDATE")
    models.CloudFormationBackend.execute_change_set = _execute_change_set(models.CloudFormationBackend.execute_change_set)
    _installed = True
