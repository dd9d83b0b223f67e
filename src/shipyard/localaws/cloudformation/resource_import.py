"""Moving resources between stacks in the embedded AWS, as CloudFormation documents it: a resource removed from a
template whose DeletionPolicy is Retain stays (DELETE_SKIPPED), and an IMPORT change set takes existing resources
into a stack without creating them.

CloudFormation user guide, "Import AWS resources into a CloudFormation stack with a resource import" and "Resource
import considerations"; "Move resources between stacks"; "DeletionPolicy attribute". What an IMPORT change set must
satisfy, each refused here as there:
- every resource to import is in the template with a DeletionPolicy, and its identifier matches the template's
  property where the template sets one;
- the identified resource exists, and belongs to no stack yet;
- the template changes nothing else: the stack's resources stay as they are, and nothing is created or removed;
- an existing stack is in a state that takes changes (not in progress, not failed).
moto creates a change set of any type as a creation; it deletes a removed resource whatever its DeletionPolicy.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.cloudformation import models, parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from shipyard.localaws.core.base import wrap

RETAINED = ("Retain", "RetainExceptOnCreate")


def _backend_object(resource_type: str, identifier: dict[str, str], account: str, region: str) -> tuple[str, Any] | None:
    """(the identifier's property, the emulator's object) of an importable resource type; None for a type the
    embedded AWS cannot import (AWS imports many more: the import is refused here rather than faked)."""
    if resource_type == "AWS::S3::Bucket":
        from moto.s3.models import s3_backends

        return "BucketName", s3_backends[account]["aws"].buckets.get(identifier.get("BucketName", ""))
    if resource_type == "AWS::ECR::Repository":
        from moto.ecr.models import ecr_backends

        return "RepositoryName", ecr_backends[account][region].repositories.get(identifier.get("RepositoryName", ""))
    if resource_type == "AWS::Logs::LogGroup":
        from moto.logs.models import logs_backends

        return "LogGroupName", logs_backends[account][region].groups.get(identifier.get("LogGroupName", ""))
    if resource_type in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::RDS::DBSubnetGroup"):
        from shipyard.localaws.rds.handlers import existing

        return existing(resource_type, identifier, account, region)
    return None


def _physical_id(resource: Any) -> str:
    return str(getattr(resource, "physical_resource_id", "") or "")


def _owner(backend: Any, resource_type: str, physical_id: str) -> str | None:
    """The stack that holds this resource already, if any."""
    for stack in backend.stacks.values():
        if stack.status == "DELETE_COMPLETE":
            continue
        for logical, resource_json in stack.resource_map._resource_json_map.items():
            if resource_json.get("Type") != resource_type:
                continue
            parsed = stack.resource_map._parsed_resources.get(logical)
            if parsed is not None and _physical_id(parsed) == physical_id:
                return stack.stack_id
    return None


def _check_import(backend: Any, stack: Any | None, template: dict[str, Any], imports: list[dict[str, Any]]) -> dict[str, Any]:
    """The emulator's objects to import, by logical id, or a ValidationError as CloudFormation gives it."""
    resources = template.get("Resources") or {}
    if not imports:
        raise ValidationError(message="ResourcesToImport must name at least one resource for an IMPORT change set")
    found: dict[str, Any] = {}
    for entry in imports:
        logical, resource_type = entry.get("LogicalResourceId", ""), entry.get("ResourceType", "")
        identifier = {k: str(v) for k, v in (entry.get("ResourceIdentifier") or {}).items()}
        declared = resources.get(logical)
        if declared is None or declared.get("Type") != resource_type:
            raise ValidationError(message=f"Resource {logical} of type {resource_type} in ResourcesToImport is not in the template")
        if "DeletionPolicy" not in declared:
            raise ValidationError(message=f"Resource {logical} to import must have a DeletionPolicy attribute in the template")
        located = _backend_object(resource_type, identifier, backend.account_id, backend.region_name)
        if located is None:
            raise ValidationError(message=f"Resource type {resource_type} of {logical} is not importable in the embedded AWS")
        key, resource = located
        given = (declared.get("Properties") or {}).get(key)
        if isinstance(given, str) and given != identifier.get(key):
            raise ValidationError(message=f"Resource {logical}: the template's {key} {given!r} does not match its identifier "
                                          f"{identifier.get(key)!r} in ResourcesToImport")
        if resource is None:
            raise ValidationError(message=f"Resource {logical}: no {resource_type} with {key} {identifier.get(key)!r} exists")
        owner = _owner(backend, resource_type, _physical_id(resource))
        if owner is not None:
            raise ValidationError(message=f"Resource {logical}: {identifier.get(key)} already exists in stack {owner}")
        found[logical] = resource
    existing = stack.resource_map._resource_json_map if stack is not None else {}
    others = {name: body for name, body in resources.items() if name not in found}
    if others != existing:
        changed = sorted(set(others) ^ set(existing) | {n for n in others if n in existing and others[n] != existing[n]})
        raise ValidationError(message=f"An IMPORT change set can only import: the template also adds, changes or removes "
                                      f"{', '.join(changed)}")
    return found


def _create_change_set(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: CloudFormationResponse) -> Any:
        if self._get_param("ChangeSetType") != "IMPORT":
            return original(self)
        backend = self.cloudformation_backend
        name = self._get_param("StackName")
        stack = next((s for s in backend.stacks.values() if s.name == name and s.status != "DELETE_COMPLETE"), None)
        if stack is not None and (stack.status.endswith("_IN_PROGRESS") or stack.status.endswith("_FAILED")
                                  or stack.status == "ROLLBACK_COMPLETE"):
            raise ValidationError(message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
        body = self._get_param("TemplateBody")
        template = models.Stack.parse_template(body)
        imports = self._get_param("ResourcesToImport") or []
        found = _check_import(backend, stack, template, imports)
        parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in self._get_param("Parameters", [])}
        if stack is None:  # a new stack holding only what it imports
            change_set_id, stack_id = backend.create_change_set(stack_name=name, change_set_name=self._get_param("ChangeSetName"),
                                                                template=body, parameters=parameters, description=None,
                                                                change_set_type="IMPORT")
        else:
            change_set_id, stack_id = backend.create_change_set(stack_name=name, change_set_name=self._get_param("ChangeSetName"),
                                                                template=body, parameters=parameters or stack.parameters,
                                                                description=None, change_set_type="UPDATE")
            change_set = backend.change_sets[change_set_id]
            change_set.change_set_type = "IMPORT"
        change_set = backend.change_sets[change_set_id]
        change_set.imports = found
        change_set.status, change_set.execution_status, change_set.status_reason = "CREATE_COMPLETE", "AVAILABLE", None
        for change in change_set.changes:
            if change.logical_resource_id in found:
                change.action = "Import"
        return ActionResult({"Id": change_set_id, "StackId": stack_id})

    return wrapper


def _execute_change_set(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None)
        if change_set is None or change_set.change_set_type != "IMPORT":
            return original(self, change_set_name, stack_name)
        stack = self.stacks[change_set.stack_id]
        new = stack.status == "REVIEW_IN_PROGRESS"
        stack._add_stack_event("IMPORT_IN_PROGRESS", resource_status_reason="User Initiated")
        stack.status = "IMPORT_IN_PROGRESS"
        if new:
            stack.template = change_set.template
            stack._parse_template()
            stack.resource_map = stack._create_resource_map()
        for logical, resource in change_set.imports.items():
            resource_type = change_set.template_dict["Resources"][logical]["Type"]
            stack.events.append(_event(stack, logical, _physical_id(resource), resource_type, "IMPORT_IN_PROGRESS"))
            stack.resource_map._parsed_resources[logical] = resource  # taken as it is: nothing is created
            resource.logical_resource_id = logical  # the emulator's object answers for its new stack
            resource.cf_resource_type = resource_type
            stack.events.append(_event(stack, logical, _physical_id(resource), resource_type, "IMPORT_COMPLETE"))
        if new:
            stack.resource_map.create(stack.template_dict)
        else:
            stack.resource_map.update(change_set.template_dict, change_set.parameters)
            stack.template = change_set.template
            stack._parse_template()
        stack.output_map = stack._create_output_map()
        stack._add_stack_event("IMPORT_COMPLETE")
        stack.status = "IMPORT_COMPLETE"
        change_set.execution_status = "EXECUTE_COMPLETE"

    return wrapper


def _event(stack: Any, logical: str, physical: str, resource_type: str, status: str) -> Any:
    return models.Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical, physical_resource_id=physical,
                        resource_type=resource_type, resource_status=status, resource_status_reason=None, resource_properties=None)


def _delete_resource(original: Any) -> Any:
    """A resource whose DeletionPolicy keeps it is left where it is when its stack or its template lets it go."""

    @functools.wraps(original)
    def wrapper(self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
        if resource_json.get("DeletionPolicy") in RETAINED:
            stack = next((s for s in _backend(self).stacks.values() if s.stack_id == self.stack_id), None)
            if stack is not None:
                logical = getattr(parsed_resource, "logical_resource_id", "") or next(
                    (k for k, v in self._parsed_resources.items() if v is parsed_resource), "")
                stack.events.append(_event(stack, logical, _physical_id(parsed_resource), resource_json.get("Type", ""), "DELETE_SKIPPED"))
            return
        original(self, parsed_resource, resource_json)

    return wrapper


POLICIES = {"DeletionPolicy", "UpdateReplacePolicy"}


def _policy_changes(original: Any) -> Any:
    """Which modified resources differ from before in their policies alone: CloudFormation records those in the
    template and leaves the resource as it is (moto calls the resource's update, and a type without one is lost)."""

    @functools.wraps(original)
    def wrapper(self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        diff = original(self, other_template, parameters)
        new = other_template.get("Resources") or {}

        def without_policies(body: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in body.items() if k not in POLICIES}

        # A resource modified because a value it resolves changed (an SSM parameter: handlers.py) is a real update.
        driven = getattr(self, "parameter_driven", {})
        self.policy_only = {name for name in diff["Modify"] if name in self._resource_json_map and name in new and name not in driven
                            and self._resource_json_map[name] != new[name]
                            and without_policies(self._resource_json_map[name]) == without_policies(new[name])}
        return diff

    return wrapper


def _keep_on_policy_change(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(logical_id: str, resource_json: dict[str, Any], resources_map: Any, *args: Any, **kwargs: Any) -> Any:
        if logical_id in getattr(resources_map, "policy_only", ()):
            return resources_map._parsed_resources.get(logical_id)
        return original(logical_id, resource_json, resources_map, *args, **kwargs)

    return wrapper


def _backend(resource_map: Any) -> Any:
    return models.cloudformation_backends[resource_map._account_id][resource_map._region_name]


def install() -> None:
    """After handlers.install(): these see a change set first."""
    wrap(CloudFormationResponse, "create_change_set", _create_change_set,
         corrects="an IMPORT change set is made as a creation of new resources; CloudFormation imports existing ones, and refuses "
                  "an import without a DeletionPolicy, of a missing resource, of one another stack holds, or with other changes")
    wrap(models.CloudFormationBackend, "execute_change_set", _execute_change_set,
         corrects="(with the above) executing an import creates resources; CloudFormation takes the existing ones (IMPORT_COMPLETE)")
    wrap(parsing.ResourceMap, "build_resource_diff", _policy_changes,
         corrects="a change of DeletionPolicy alone updates the resource (a type without an update handler is lost from its "
                  "stack); CloudFormation records the policy and leaves the resource as it is")
    wrap(parsing, "parse_and_update_resource", _keep_on_policy_change,
         corrects="(with the above) the resource is kept as it is")
    wrap(parsing.ResourceMap, "_delete_resource", _delete_resource,
         corrects="a resource removed from a template is deleted whatever its DeletionPolicy; Retain keeps it (DELETE_SKIPPED)")
