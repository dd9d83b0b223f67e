"""CloudFormation in the embedded AWS, made to report as CloudFormation does (patches only; no resource types).

moto creates resources synchronously, records only stack-level events, and lets
a failing resource escape as a server error with the stack left IN_PROGRESS.
The patches below make the deploy engine read the same signals as from AWS.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from moto.cloudformation import models, parsing

from shipyard.localaws.cloudformation import drift, dynamic_references, resource_import, stabilize
from shipyard.localaws.core.base import patch, wrap
from shipyard.localaws.core.pace import references

log = logging.getLogger(__name__)


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

def _roll_back(stack: Any, change_set_type: str, previous_template: Any, previous_parameters: dict[str, Any],
               previous_resolved: dict[str, Any], reason: str, *, disabled: bool = False) -> None:
    """Undo a failed change as CloudFormation does: delete what a create made, restore what an update changed.
    disabled (ExecuteChangeSet's DisableRollback): keep what was made, and the stack CREATE_FAILED or UPDATE_FAILED
    (CloudFormation API reference, ExecuteChangeSet: "Preserves the state of previously provisioned resources when
    an operation fails")."""
    if disabled:
        failed = "CREATE_FAILED" if change_set_type == "CREATE" else "UPDATE_FAILED"
        stack._add_stack_event(failed, resource_status_reason=reason)
        stack.status = failed
        return
    if change_set_type == "CREATE":
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        try:
            stack.resource_map.delete()
        except Exception as cleanup:  # the emulator could not undo everything; say so
            stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
            stack.status = "ROLLBACK_FAILED"
            return
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
        return
    stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS"
    # A rollback restores the values the previous template resolved (SSM parameters included), not today's.
    stack.resource_map.pinned_parameters = previous_resolved
    try:
        stack.resource_map.update(stack.parse_template(previous_template), previous_parameters)
    except Exception as cleanup:
        stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
        stack.status = "UPDATE_ROLLBACK_FAILED"
        return
    finally:
        stack.resource_map.pinned_parameters = {}
    stack.template = previous_template
    stack._parse_template()
    stack.output_map = stack._create_output_map()
    if not stabilize.hold(stack, "UPDATE_ROLLBACK", None):
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"


def _publish_exports(backend: Any, stack: Any) -> None:
    """The stack's exports replace what it exported before; a name another stack exports is refused (moto's own
    check counts the stack's previous exports as taken, so a stack with exports could never be updated)."""
    from moto.cloudformation.exceptions import ValidationError

    taken = {name for name, export in backend.exports.items() if export.exporting_stack_id != stack.stack_id}
    clash = sorted(taken & {export.name for export in stack.exports})
    if clash:
        raise ValidationError(stack.stack_id, message=f"Export with name {clash[0]} is already exported by another stack")
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        del backend.exports[name]
    for export in stack.exports:
        backend.exports[export.name] = export


def _execute_change_set(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]
        kind = change_set.change_set_type
        previous = (stack.template, dict(stack.resource_map.input_parameters), dict(stack.resource_map.resolved_parameters))

        def roll_back(reason: str) -> None:
            _roll_back(stack, kind, *previous, reason, disabled=getattr(change_set, "disable_rollback", False))

        # moto wires exports into stacks made by CreateStack only; stacks made
        # through change sets must see and publish them too.
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        try:
            original(self, change_set_name, stack_name)
            stack._parse_template()
            stack.description = stack.template_dict.get("Description")
            stack.output_map = stack._create_output_map()
            _publish_exports(self, stack)
        except Exception as exc:  # roll back as CloudFormation would
            log.info("change set %s failed: %s", change_set_name, exc)
            change_set.execution_status = "EXECUTE_FAILED"
            failed = [e.logical_resource_id for e in stack.events if e.resource_status.endswith("_FAILED")]
            verb = "create" if kind == "CREATE" else "update"
            roll_back(f"The following resource(s) failed to {verb}: [{', '.join(failed[-1:])}]. " if failed else _reason(exc))
            return
        stabilize.hold(stack, kind, roll_back)

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
        # Properties that resolve differently because a parameter or condition changed (_build_resource_diff).
        changed = sorted(set(changed) | set(getattr(change_set.stack.resource_map, "parameter_driven", {}).get(change.logical_resource_id, ())))
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

def _changed_ssm_parameters(resource_map: Any, template: dict[str, Any]) -> dict[str, Any]:
    """Template parameters of an SSM type whose stored value changed since the stack last resolved them -> new value."""
    from moto.ssm.models import ssm_backends

    backend = ssm_backends[resource_map._account_id][resource_map._region_name]
    changed = {}
    for key, slot in (template.get("Parameters") or {}).items():
        if not str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            continue
        pinned = getattr(resource_map, "pinned_parameters", {})
        if key in pinned:
            current = pinned[key]
        else:
            stored = backend.get_parameter(resource_map.input_parameters.get(key) or slot.get("Default"))
            current = None if stored is None else stored.value
        if current is not None and key in resource_map.resolved_parameters and resource_map.resolved_parameters[key] != current:
            changed[key] = current
    return changed


def _changed_given_parameters(resource_map: Any, template: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    """Plain template parameters given a value other than the stack's (SSM types: _changed_ssm_parameters)."""
    slots = template.get("Parameters") or {}
    return {key: value for key, value in (given or {}).items()
            if key in slots and not str(slots[key].get("Type", "")).startswith("AWS::SSM::Parameter::Value")
            and key in resource_map.input_parameters and resource_map.input_parameters[key] != value}


def _diff_with_parameters(original: Any) -> Any:
    """A change set's diff sees the parameters it was given (moto diffs its template alone)."""

    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        self.stack.resource_map.change_set_parameters = dict(self.parameters or {})
        try:
            return original(self)
        finally:
            self.stack.resource_map.change_set_parameters = None

    return wrapper


_UNKNOWN = object()


def _condition(conditions: dict[str, Any], node: Any, parameters: dict[str, Any]) -> Any:
    """A condition's value for these parameter values; _UNKNOWN where the emulator cannot tell."""
    if isinstance(node, str):
        return _condition(conditions, conditions.get(node), parameters)
    if isinstance(node, dict) and len(node) == 1:
        (function, argument), = node.items()
        if function == "Condition":
            return _condition(conditions, argument, parameters)
        if function == "Fn::Equals":
            left, right = ((parameters.get(v["Ref"], _UNKNOWN) if isinstance(v, dict) and "Ref" in v else v) for v in argument)
            return _UNKNOWN if _UNKNOWN in (left, right) else left == right
        values = [_condition(conditions, item, parameters) for item in argument]
        if _UNKNOWN in values:
            return _UNKNOWN
        if function == "Fn::Not":
            return not values[0]
        if function in ("Fn::And", "Fn::Or"):
            return all(values) if function == "Fn::And" else any(values)
    return _UNKNOWN


def _dependency_order(names: list[str], resources: dict[str, Any]) -> list[str]:
    """Update what others refer to first (a task definition before the service that runs it)."""
    pending, ordered = list(names), []
    while pending:
        ready = [n for n in pending if not (references(resources.get(n, {})) & set(pending)) - {n}]
        ready = ready or pending[:1]  # a cycle: keep going in template order
        ordered += ready
        pending = [n for n in pending if n not in ready]
    return ordered

def _build_resource_diff(original: Any) -> Any:
    """CloudFormation re-resolves SSM parameter types on every update; moto compares only the raw input.

    As CloudFormation does, a resource changes when a property it resolves changes: one that refers to a changed
    parameter, to a condition whose value flips, or to a resource that is replaced (its physical id changes). A
    resource that refers to one merely modified in place keeps the same Ref and is left alone.
    """

    @functools.wraps(original)
    def wrapper(self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        given = parameters if parameters is not None else getattr(self, "change_set_parameters", None)
        diff = original(self, other_template, given)
        changed = {**_changed_given_parameters(self, other_template, given), **_changed_ssm_parameters(self, other_template)}
        self.parameter_driven = {}
        if not changed:
            return diff
        before = dict(self.resolved_parameters)
        after = {**before, **changed}
        conditions = other_template.get("Conditions") or {}
        moved = set(changed) | {name for name in conditions
                                if (old := _condition(conditions, name, before)) is _UNKNOWN or old != _condition(conditions, name, after)}
        resources = other_template.get("Resources", {})
        modify, replaced = list(diff["Modify"]), set()
        for name in _dependency_order(list(resources), resources):
            if name not in self._resource_json_map:
                continue
            touched = sorted(key for key, value in (resources[name].get("Properties") or {}).items()
                             if references(value) & (moved | replaced))
            if not touched:
                continue
            if name not in modify:
                modify.append(name)
            self.parameter_driven[name] = touched
            if set(touched) & _create_only(resources[name]["Type"], self._region_name):
                replaced.add(name)
        diff["Modify"] = _dependency_order(modify, resources)
        return diff

    return wrapper


def _load_parameters(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any) -> None:
        original(self)
        for key, value in getattr(self, "pinned_parameters", {}).items():
            self.resolved_parameters[key] = value
            self._parsed_resources[key] = value

    return wrapper


def _settled(original: Any) -> Any:
    """Describing a stack first brings a stack that waits for ECS up to date."""

    @functools.wraps(original)
    def wrapper(self: Any, name_or_stack_id: str, *args: Any, **kwargs: Any) -> Any:
        for stack in list(self.stacks.values()):
            if not name_or_stack_id or name_or_stack_id in (stack.name, stack.stack_id):
                stabilize.settle(stack)
        return original(self, name_or_stack_id, *args, **kwargs)

    return wrapper


def _busy_stack(backend: Any, name: str) -> None:
    """AWS refuses a change set for a stack that is still in progress."""
    from moto.cloudformation.exceptions import ValidationError

    stack = next((s for s in backend.stacks.values() if name in (s.name, s.stack_id)), None)
    if stack is not None:
        stabilize.settle(stack)
        if stack.status.endswith("_IN_PROGRESS"):
            raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")


def _execute_change_set_response(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        if str(self._get_param("DisableRollback", "false")).lower() == "true":
            self.cloudformation_backend.describe_change_set(self._get_param("ChangeSetName")).disable_rollback = True
        return original(self)

    return wrapper


def _cancel_update_stack(self: Any) -> str:
    from moto.cloudformation.exceptions import ValidationError

    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    stabilize.settle(stack)
    if not stabilize.cancel(stack):
        raise ValidationError(message=f"CancelUpdateStack cannot be called from current stack status {stack.status}")
    return ('<CancelUpdateStackResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><ResponseMetadata>'
            '<RequestId>5ccc7dcd-744c-11e5-be70-example</RequestId></ResponseMetadata></CancelUpdateStackResponse>')


def _has_parameters(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, other_parameters: dict[str, Any]) -> bool:
        return original(self, other_parameters) and not _changed_ssm_parameters(self.resource_map, self.template_dict or {})

    return wrapper


def _change_set_without_changes(original: Any) -> Any:
    """CreateChangeSet answers with a FAILED change set when nothing changed; only UpdateStack raises."""

    @functools.wraps(original)
    def wrapper(self: Any) -> Any:
        self._creating_change_set = True
        _busy_stack(self.cloudformation_backend, self._get_param("StackName"))
        return original(self)

    return wrapper


def _validate_different_update(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        if not getattr(self, "_creating_change_set", False):
            original(self, *args, **kwargs)

    return wrapper


def reset() -> None:
    stabilize.reset()


def _json_first(parse_yaml: Any) -> Any:
    """A JSON template (every synthesized one) read by the JSON parser, YAML only for the rest: the same document,
    read some 200 times faster than by PyYAML's pure-Python parser (the service stack: 0.5 ms, not 127 ms)."""

    def parse(template: str) -> Any:
        if template.lstrip().startswith("{"):
            try:
                return json.loads(template)
            except ValueError:
                pass  # YAML's flow style also starts with a brace
        return parse_yaml(template)

    return parse


EVENTS_PER_PAGE = 100  # AWS documents a next page past 1 MB of events; it is observed to page at 100


def _describe_stack_events(self: Any) -> str:
    """Newest first, a page at a time with a NextToken to the next (the token: the index of the page's first event)."""
    events = self.cloudformation_backend.describe_stack_events(self._get_param("StackName"))[::-1]
    start = int(self._get_param("NextToken") or 0)
    token = f"<NextToken>{start + EVENTS_PER_PAGE}</NextToken>" if start + EVENTS_PER_PAGE < len(events) else ""
    return (f'<DescribeStackEventsResponse xmlns="{_CLOUDFORMATION_XMLNS}"><DescribeStackEventsResult><StackEvents>'
            + "".join(_event_member(e) for e in events[start:start + EVENTS_PER_PAGE])
            + f"</StackEvents>{token}</DescribeStackEventsResult><ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId>"
            "</ResponseMetadata></DescribeStackEventsResponse>")


_CLOUDFORMATION_XMLNS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"


def _event_member(event: Any) -> str:
    """One stack event as DescribeStackEvents' XML member, written once per event and kept: a poll reads a page of
    100 events, and moto's generic serializer spent 15 ms on each page, on every poll of every stack wait."""
    fields = (("StackId", event.stack_id), ("EventId", event.event_id), ("StackName", event.stack_name),
              ("LogicalResourceId", event.logical_resource_id), ("PhysicalResourceId", event.physical_resource_id),
              ("ResourceType", event.resource_type), ("Timestamp", event.timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
              ("ResourceStatus", event.resource_status), ("ResourceStatusReason", event.resource_status_reason),
              ("ResourceProperties", event.resource_properties), ("ClientRequestToken", event.client_request_token))
    kept = getattr(event, "_shipyard_member", None)
    if kept is None or kept[0] != fields:
        body = "".join(f"<{name}>{xml_escape(str(value))}</{name}>" for name, value in fields if value is not None)
        kept = event._shipyard_member = (fields, f"<member>{body}</member>")
    return kept[1]


def _change_set_template(self: Any) -> None:
    self.template_dict = models.Stack.parse_template(self.template)


def install() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    drift.install()
    dynamic_references.install()
    patch(models.Stack, "parse_template", staticmethod(_json_first(models.Stack.parse_template)),
          corrects="(not a correction) a JSON template is read as JSON, not by the YAML parser: the service stack took 127 ms to parse")
    patch(models.ChangeSet, "_parse_template", _change_set_template,
          corrects="(not a correction, with the above) a change set's template too")
    patch(CloudFormationResponse, "describe_stack_events", _describe_stack_events,
          corrects="DescribeStackEvents returns every event of a stack in one answer; CloudFormation pages them")

    wrap(CloudFormationResponse, "create_change_set", _change_set_without_changes,
         corrects="CreateChangeSet raises 'No updates are to be performed' for a stack with parameters; AWS creates a FAILED change set")
    wrap(CloudFormationResponse, "execute_change_set", _execute_change_set_response,
         corrects="ExecuteChangeSet ignores DisableRollback; a failed change then keeps what it made, the stack *_FAILED")
    patch(CloudFormationResponse, "cancel_update_stack", _cancel_update_stack,
          corrects="CancelUpdateStack is not implemented; a stack waiting for ECS must be cancellable and roll back")
    wrap(models.CloudFormationBackend, "describe_stacks", _settled,
         corrects="stacks complete at once; a stack that changed an ECS service waits for its deployment (stabilize.py)")
    wrap(models.CloudFormationBackend, "describe_stack_events", _settled,
         corrects="(with the above) events of a stack waiting for ECS appear as its deployment ends")
    wrap(parsing.ResourceMap, "load_parameters", _load_parameters,
         corrects="a rollback re-resolves SSM parameters to today's values; CloudFormation restores the previous ones")
    wrap(CloudFormationResponse, "_validate_different_update", _validate_different_update,
         corrects="(with the above) the UpdateStack-only check is skipped for change sets")
    wrap(models.ChangeSet, "diff", _diff_with_parameters,
         corrects="a change set that changes only a parameter's value lists no changes; CloudFormation updates what refers to it")
    wrap(models.ChangeSet, "__init__", _change_set_init,
         corrects="change sets list changes without action details, replacement or the properties behind them")
    wrap(models.CloudFormationBackend, "delete_stack", _delete_stack,
         corrects="a failed delete is a server error instead of DELETE_FAILED with its reason")
    wrap(parsing.ResourceMap, "build_resource_diff", _build_resource_diff,
         corrects="updates compare raw SSM parameter names; CloudFormation re-resolves SSM parameter types on every update")
    wrap(models.Stack, "has_parameters", _has_parameters,
         corrects="a change set with unchanged parameter names is empty even when an SSM parameter's value changed")
    wrap(parsing, "parse_and_create_resource", lambda original: _with_events(original, "CREATE"),
         corrects="no per-resource CREATE_IN_PROGRESS / CREATE_COMPLETE / CREATE_FAILED events")
    wrap(parsing, "parse_and_update_resource", lambda original: _with_events(original, "UPDATE"),
         corrects="no per-resource UPDATE_IN_PROGRESS / UPDATE_COMPLETE / UPDATE_FAILED events")
    wrap(models.CloudFormationBackend, "execute_change_set", _execute_change_set,
         corrects="a failing change set raises instead of rolling back; change-set stacks neither import nor export values")
    resource_import.install()  # last: an IMPORT change set is told apart before the wrappers above see it
