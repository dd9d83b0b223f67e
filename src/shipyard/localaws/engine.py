"""Make the emulator's CloudFormation report like CloudFormation does.

moto creates resources synchronously, records only stack-level events, and
lets a failing resource escape as a server error with the stack left
IN_PROGRESS. shipyard wraps three of its functions so that, as on AWS:
- every resource gets *_IN_PROGRESS / *_COMPLETE / *_FAILED events with the reason;
- a failed create rolls back (created resources deleted) to ROLLBACK_COMPLETE;
- a failed update re-applies the previous template to UPDATE_ROLLBACK_COMPLETE;
- a failed delete ends in DELETE_FAILED with its reason;
- ExecuteChangeSet itself succeeds and the failure shows in events and status;
- stacks made through change sets import and export values like any other;
- CloudFront origins keep their OAC, S3 and VPC-origin settings;
- change sets describe each change (action, replacement and the properties
  behind it, from the resource schemas cfn-lint ships) as CloudFormation does.
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


def _create_only(resource_type: str, region: str) -> set[str]:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, resource_type).schema
    except Exception:  # a type cfn-lint does not know: nothing is known to force replacement
        return set()
    return {p.split("/")[2] for p in schema.get("createOnlyProperties", []) if p.startswith("/properties/")}


def _describe_changes(change_set: Any) -> None:
    """Give moto's bare Change objects the detail CloudFormation reports (moto serializes their attributes)."""
    old_resources = (change_set.stack.template_dict or {}).get("Resources", {})
    new_resources = change_set.template_dict.get("Resources", {})
    for change in change_set.changes:
        if change.action != "Modify":
            continue
        old = old_resources.get(change.logical_resource_id, {}).get("Properties", {})
        new = new_resources.get(change.logical_resource_id, {}).get("Properties", {})
        changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        create_only = _create_only(change.resource_type, change_set.stack.region_name)
        change.details = [{"Target": {"Attribute": "Properties", "Name": name,
                                      "RequiresRecreation": "Always" if name in create_only else "Never"},
                           "ChangeSource": "DirectModification", "Evaluation": "Static"} for name in changed]
        change.replacement = "True" if any(name in create_only for name in changed) else "False"
        change.scope = ["Properties"]


def _change_set_init(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _describe_changes(self)

    return wrapper


def _delete_stack(original: Any) -> Any:
    """A delete that fails leaves the stack in DELETE_FAILED with the reason, as on AWS, not a server error."""

    @functools.wraps(original)
    def wrapper(self: Any, name_or_stack_id: str) -> None:
        stack = next((s for s in self.stacks.values() if name_or_stack_id in (s.stack_id, s.name)), None)
        try:
            original(self, name_or_stack_id)
        except Exception as exc:
            if stack is None:
                raise
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=_reason(exc))
            stack.status = "DELETE_FAILED"
            self.stacks[stack.stack_id] = stack

    return wrapper


def _origin_init(original: Any) -> Any:
    """moto's CloudFront origin drops OAC, S3 and VPC-origin settings; keep them for GetDistribution."""

    @functools.wraps(original)
    def wrapper(self: Any, origin: dict[str, Any]) -> None:
        original(self, origin)
        if "S3OriginConfig" in origin:
            self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity") or ""}
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "VpcOriginConfig" in origin:
            self.vpc_origin_config = origin["VpcOriginConfig"]

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
    models.ChangeSet.__init__ = _change_set_init(models.ChangeSet.__init__)
    models.CloudFormationBackend.delete_stack = _delete_stack(models.CloudFormationBackend.delete_stack)
    from moto.cloudfront import models as cloudfront_models

    cloudfront_models.Origin.__init__ = _origin_init(cloudfront_models.Origin.__init__)

    parsing.parse_and_create_resource = _with_events(parsing.parse_and_create_resource, "CREATE")
    parsing.parse_and_update_resource = _with_events(parsing.parse_and_update_resource, "UPDATE")
    models.CloudFormationBackend.execute_change_set = _execute_change_set(models.CloudFormationBackend.execute_change_set)
    _installed = True
