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
- SSM parameter types are re-resolved on every update, and what depends on a changed value changes;
- load balancers and target groups report their full names (CloudWatch dimensions);
- ECR names images by the sha256 of their manifest bytes, as ECR does;
- a copied image's scan finds what the original's did (same bytes);
- ECR serves uploaded layers through GetDownloadUrlForLayer (as data: URLs), so images can be copied;
- ECS and ELB answers come from the rollout simulator (rollout.py) for services it runs;
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
                stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=(
                    f"The following resource(s) failed to create: [{', '.join(failed[-1:])}]. " if failed else _reason(exc)))
                try:
                    stack.resource_map.delete()
                except Exception as cleanup:  # the emulator could not undo everything; say so
                    stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
                    stack.status = "ROLLBACK_FAILED"
                    return
                stack._add_stack_event("ROLLBACK_COMPLETE")
                stack.status = "ROLLBACK_COMPLETE"
            else:
                stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=(
                    f"The following resource(s) failed to update: [{', '.join(failed[-1:])}]. " if failed else _reason(exc)))
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


def _describe_services(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        from shipyard.localaws import rollout

        result, failures = original(self, *args, **kwargs)
        for service in result:
            rollout.advance(service)
        return result, failures

    return wrapper


def _describe_target_health(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
        from moto.elbv2.models import FakeHealthStatus

        from shipyard.localaws import rollout

        simulated = rollout.target_health(self.account_id, self.region_name, target_group_arn)
        if simulated is None:
            return original(self, target_group_arn, targets)
        return [FakeHealthStatus(h["Target"]["Id"], h["Target"]["Port"], h["HealthCheckPort"], h["TargetHealth"]["State"],
                                 h["TargetHealth"].get("Reason"), h["TargetHealth"].get("Description")) for h in simulated]

    return wrapper


def _references(node: Any) -> set[str]:
    """Logical ids, parameters and conditions a template fragment refers to."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::If" and isinstance(value, list) and value:
                found.add(value[0])
                found |= _references(value[1:])
            elif key == "Condition" and isinstance(value, str):
                found.add(value)
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def _changed_ssm_parameters(resource_map: Any, template: dict[str, Any]) -> set[str]:
    """Template parameters of an SSM type whose stored value changed since the stack last resolved them."""
    from moto.ssm.models import ssm_backends

    backend = ssm_backends[resource_map._account_id][resource_map._region_name]
    changed = set()
    for key, slot in (template.get("Parameters") or {}).items():
        if not str(slot.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
            continue
        name = resource_map.input_parameters.get(key) or slot.get("Default")
        current = backend.get_parameter(name)
        if current is not None and key in resource_map.resolved_parameters and resource_map.resolved_parameters[key] != current.value:
            changed.add(key)
    return changed


def _dependency_order(names: list[str], resources: dict[str, Any]) -> list[str]:
    """Update what others refer to first (a task definition before the service that runs it)."""
    pending, ordered = list(names), []
    while pending:
        ready = [n for n in pending if not (_references(resources.get(n, {})) & set(pending)) - {n}]
        ready = ready or pending[:1]  # a cycle: keep going in template order
        ordered += ready
        pending = [n for n in pending if n not in ready]
    return ordered


def _build_resource_diff(original: Any) -> Any:
    """CloudFormation re-resolves SSM parameter types on every update; moto compares only the raw input."""

    @functools.wraps(original)
    def wrapper(self: Any, other_template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
        diff = original(self, other_template, parameters)
        changed = _changed_ssm_parameters(self, other_template)
        if not changed:
            return diff
        conditions = other_template.get("Conditions") or {}
        changed |= {name for name, body in conditions.items() if _references(body) & changed}
        resources = other_template.get("Resources", {})
        modify = list(diff["Modify"])
        frontier = changed
        while frontier:  # resources depending on what changed change too, in dependency order
            wave = [name for name, body in resources.items()
                    if name in self._resource_json_map and name not in modify and _references(body) & frontier]
            modify += wave
            frontier = set(wave)
        diff["Modify"] = _dependency_order(modify, resources)
        return diff

    return wrapper


def _has_parameters(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, other_parameters: dict[str, Any]) -> bool:
        return original(self, other_parameters) and not _changed_ssm_parameters(self.resource_map, self.template_dict or {})

    return wrapper


_layer_blobs: dict[tuple[str, str], bytes] = {}


def _complete_layer_upload(original: Any) -> Any:
    """Keep uploaded layer bytes, which moto discards, so GetDownloadUrlForLayer can serve them."""

    @functools.wraps(original)
    def wrapper(self: Any, repository_name: str, upload_id: str, layer_digests: list[str], registry_id: str | None = None) -> Any:
        repository = self._get_repository(repository_name, registry_id)
        data = bytes(repository.uploads[upload_id].layer_parts) if upload_id in repository.uploads else b""
        result = original(self, repository_name, upload_id, layer_digests, registry_id)
        _layer_blobs[(repository.registry_id, result["layerDigest"])] = data
        return result

    return wrapper


def _get_download_url_for_layer(self: Any) -> Any:
    """moto leaves this unimplemented; the emulator hands the layer out as a data: URL."""
    import base64

    from moto.core.responses import ActionResult
    from moto.ecr.exceptions import InvalidParameterException

    repository = self.ecr_backend._get_repository(self._get_param("repositoryName"), self._get_param("registryId"))
    digest = self._get_param("layerDigest")
    data = _layer_blobs.get((repository.registry_id, digest))
    if data is None:
        raise InvalidParameterException(f"layer {digest} is not in repository {repository.name}")
    url = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    return ActionResult({"downloadUrl": url, "layerDigest": digest})


def _image_digest_of_manifest(self: Any) -> None:
    """ECR names an image by the sha256 of its manifest bytes; moto hashed the layer list instead."""
    import hashlib

    self._image_digest = "sha256:" + hashlib.sha256(self.image_manifest.encode()).hexdigest()


def _scan_findings_follow_content(original: Any) -> Any:
    """A scan of the same bytes finds the same things: a copied image inherits the findings registered for its digest."""

    @functools.wraps(original)
    def wrapper(self: Any, registry_id: str, repository_name: str, image_id: dict[str, Any]) -> Any:
        import copy

        from moto.ecr.models import ecr_backends

        digest = image_id.get("imageDigest")
        pending = [r for r in self.scan_finding_results if r.get("repositoryName") == repository_name]
        image = self._get_repository(repository_name, registry_id)._get_image(None, digest) if digest else None
        if image is not None and not pending and not image.scan_finding_results and not image.scan_finding_results_queue:
            for account in list(ecr_backends):
                for region in list(ecr_backends[account]):
                    for repo in ecr_backends[account][region].repositories.values():
                        for other in repo.images:
                            if other is not image and other.image_digest == digest and other.scan_finding_results:
                                inherited = copy.deepcopy(next(iter(other.scan_finding_results.values())))
                                inherited.update(repositoryName=repository_name, registryId=self.account_id)
                                self.scan_finding_results.append(inherited)
                                return original(self, registry_id, repository_name, image_id)
        return original(self, registry_id, repository_name, image_id)

    return wrapper


def _no_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


def _elb_attributes(original: Any) -> Any:
    """The full names CloudWatch metrics use as dimensions, which moto leaves unimplemented."""

    @functools.wraps(original)
    def wrapper(self: Any, attribute_name: str) -> Any:
        arn = getattr(self, "arn", "")
        if attribute_name in ("LoadBalancerFullName", "TargetGroupFullName"):
            return arn.split(":", 5)[5].split("/", 1)[1] if attribute_name == "LoadBalancerFullName" else arn.split(":", 5)[5]
        if attribute_name == "SecurityGroups":
            return list(getattr(self, "security_groups", []))
        if attribute_name == "CanonicalHostedZoneID":
            return "Z32O12XQLNTSW2"
        return original(self, attribute_name)

    return wrapper


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
    parsing.ResourceMap.build_resource_diff = _build_resource_diff(parsing.ResourceMap.build_resource_diff)
    models.Stack.has_parameters = _has_parameters(models.Stack.has_parameters)
    from moto.ecr.models import ECRBackend
    from moto.ecr.models import Image as EcrImage

    EcrImage._create_digest = _image_digest_of_manifest
    ECRBackend.describe_image_scan_findings = _scan_findings_follow_content(ECRBackend.describe_image_scan_findings)
    from moto.ecr.responses import ECRResponse
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.elbv2.models import ELBv2Backend, FakeLoadBalancer, FakeTargetGroup

    FakeLoadBalancer.get_cfn_attribute = _elb_attributes(FakeLoadBalancer.get_cfn_attribute)
    FakeTargetGroup.get_cfn_attribute = _elb_attributes(_no_attribute)

    ECRBackend.complete_layer_upload = _complete_layer_upload(ECRBackend.complete_layer_upload)
    ECRResponse.get_download_url_for_layer = _get_download_url_for_layer
    EC2ContainerServiceBackend.describe_services = _describe_services(EC2ContainerServiceBackend.describe_services)
    ELBv2Backend.describe_target_health = _describe_target_health(ELBv2Backend.describe_target_health)
    from moto.cloudfront import models as cloudfront_models

    cloudfront_models.Origin.__init__ = _origin_init(cloudfront_models.Origin.__init__)

    parsing.parse_and_create_resource = _with_events(parsing.parse_and_create_resource, "CREATE")
    parsing.parse_and_update_resource = _with_events(parsing.parse_and_update_resource, "UPDATE")
    models.CloudFormationBackend.execute_change_set = _execute_change_set(models.CloudFormationBackend.execute_change_set)
    _installed = True
