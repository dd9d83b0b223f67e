"""CloudFormation drift detection on the embedded AWS: DetectStackDrift, DescribeStackDriftDetectionStatus and
DescribeStackResourceDrifts, as the CloudFormation user guide describes them ("Detect unmanaged configuration changes
to stacks and resources with drift detection").

As on AWS:
- only the properties the template sets are compared, with its parameters and references resolved as deployed; a
  value only CloudFormation knows (Fn::GetAtt, Fn::Sub, ...) must be present, its value is not compared;
- a resource that no longer exists is DELETED, one whose properties differ is MODIFIED, each difference a
  PropertyDifference (ADD, REMOVE or NOT_EQUAL) with its path, expected and actual value;
- a resource the detection does not check is NOT_CHECKED and left out of DescribeStackResourceDrifts;
- detection runs beside the request: the status is DETECTION_IN_PROGRESS until every resource has been read.
Resources are read through the services' own APIs (drift_readers.py), never from moto's objects.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from shipyard.localaws.cloudformation.drift_readers import READERS
from shipyard.localaws.core import own_api

UNKNOWN = object()  # a value only CloudFormation knows: present, not compared
_NO_VALUE = object()

# Types the embedded AWS does not read back, each with why; their resources are NOT_CHECKED. The properties that
# matter of each are read by a live rule of `verify` (docs/decisions.md §27).
NOT_CHECKED = {
    "AWS::CloudFront::Distribution": "CloudFront's configuration (Quantity/Items lists) needs a mapping of its own; "
                                     "SY-E102 to SY-E109 read its security settings live",
    "AWS::ApplicationAutoScaling::ScalableTarget": "its capacities are moved by scheduled actions and releases by design",
    "AWS::ApplicationAutoScaling::ScalingPolicy": "not read back yet",
    "AWS::Budgets::Budget": "not read back yet",
    "AWS::SNS::TopicPolicy": "not read back yet; SY-E602 reads the alarms that publish to the topic",
    "AWS::EC2::Route": "a route has no describe call of its own",
    "AWS::EC2::SubnetRouteTableAssociation": "an association has no describe call of its own",
    "AWS::EC2::VPCGatewayAttachment": "an attachment has no describe call of its own",
    "AWS::EC2::SecurityGroupIngress": "standalone rules are not read back yet; SY-E201, SY-E202 and SY-E802 read ingress live",
    "AWS::EC2::SecurityGroupEgress": "standalone rules are not read back yet",
    "AWS::ECS::ClusterCapacityProviderAssociations": "read through DescribeClusters by the services test, not here",
    "AWS::Logs::DeliverySource": "not read back yet; SY-E110 reads the distribution's deliveries live",
    "AWS::Logs::DeliveryDestination": "not read back yet; SY-E110 reads the distribution's deliveries live",
    "AWS::Logs::Delivery": "not read back yet; SY-E110 reads the distribution's deliveries live",
}

# (type, property) -> why the type's describe/get API does not return it on AWS either: not compared.
NOT_RETURNED = {
    ("AWS::ECR::Repository", "EmptyOnDelete"): "a CloudFormation-only instruction for deleting the stack; ECR keeps no such setting",
    ("AWS::EC2::FlowLog", "ResourceType"): "DescribeFlowLogs returns the resource's id, not its type",
    ("AWS::CloudWatch::Dashboard", "Tags"): "GetDashboard returns no tags (they are read with ListTagsForResource by the dashboard ARN)",
    ("AWS::WAFv2::WebACL", "Scope"): "GetWebACL takes the scope as input and does not repeat it in the web ACL",
    ("AWS::RDS::DBInstance", "Port"): "the embedded AWS's instance listens on a free loopback port (Endpoint.Port), not "
                                      "the template's 5432: several instances share one machine",
    ("AWS::RDS::DBCluster", "Port"): "the embedded AWS's cluster listens on a free loopback port, as its instances do",
}


@dataclass
class Difference:
    path: str
    expected: Any
    actual: Any
    kind: str  # ADD | REMOVE | NOT_EQUAL

    def shape(self) -> dict[str, Any]:
        return {"PropertyPath": self.path, "ExpectedValue": _text(self.expected), "ActualValue": _text(self.actual),
                "DifferenceType": self.kind}


@dataclass
class ResourceDrift:
    logical_id: str
    physical_id: str
    resource_type: str
    status: str  # IN_SYNC | MODIFIED | DELETED | NOT_CHECKED
    expected: Any = None
    actual: Any = None
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Detection:
    id: str
    stack_id: str
    status: str = "DETECTION_IN_PROGRESS"
    reason: str = ""
    resources: list[ResourceDrift] = field(default_factory=list)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def drifted(self) -> list[ResourceDrift]:
        return [r for r in self.resources if r.status in ("MODIFIED", "DELETED")]


_detections: dict[str, Detection] = {}
_latest: dict[tuple[str, str, str], str] = {}  # (account, region, stack id) -> its newest detection
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        _detections.clear()
        _latest.clear()


class _Api:
    """What a reader calls: an operation of a service in a region of one account, as boto3 answers it."""

    def __init__(self, account: str) -> None:
        self.account = account

    def call(self, service: str, operation: str, region: str, **kwargs: Any) -> dict[str, Any]:
        # Detection reads each resource through the embedded AWS's own API, as CloudFormation reads AWS's.
        answer = getattr(own_api.client(self.account, service, region), xform_name(operation))(**kwargs)
        answer.pop("ResponseMetadata", None)
        return answer


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "null" if value is None else json.dumps(value, default=str)


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    """The value CloudFormation set: Ref resolved, computed values UNKNOWN, AWS::NoValue removed."""
    if isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return refs.get(arg, UNKNOWN)
            if key == "Fn::Join":
                parts = [resolve(part, refs) for part in arg[1]]
                return UNKNOWN if any(part is UNKNOWN or not isinstance(part, (str, int)) for part in parts) \
                    else arg[0].join(str(part) for part in parts)
            if key.startswith("Fn::"):
                return UNKNOWN
        resolved = {k: resolve(v, refs) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        return [item for item in (resolve(v, refs) for v in value) if item is not _NO_VALUE]
    return value


def _find(actual: dict, key: str) -> tuple[bool, Any]:
    for candidate, value in actual.items():
        if candidate.lower() == key.lower():
            return True, value
    return False, None


def _same_scalar(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(expected).lower() == str(actual).lower()
    try:
        return float(expected) == float(actual)
    except (TypeError, ValueError):
        return str(expected) == str(actual)


def _key_of(item: Any) -> tuple[str, Any] | None:
    """A list item's identity where it has one (a tag's or an attribute's Key, a setting's Name)."""
    if isinstance(item, dict):
        for name in ("Key", "Name", "key", "name"):
            if name in item and isinstance(item[name], str):
                return name, item[name]
    return None


def differences(expected: Any, actual: Any, path: str = "") -> list[Difference]:
    """What differs between what the template set and what the API returns, property by property."""
    if expected is UNKNOWN:
        return [] if actual is not None else [Difference(path, None, None, "REMOVE")]
    if isinstance(expected, (dict, list)) and isinstance(actual, str):
        try:
            actual = json.loads(actual)
        except ValueError:
            return [Difference(path, expected, actual, "NOT_EQUAL")]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [Difference(path, expected, actual, "NOT_EQUAL" if actual is not None else "REMOVE")]
        found = []
        for key, value in expected.items():
            present, live = _find(actual, key)
            found += differences(value, live, f"{path}/{key}") if present else [Difference(f"{path}/{key}", value, None, "REMOVE")]
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Difference(path, expected, actual, "NOT_EQUAL" if actual is not None else "REMOVE")]
        found = []
        for index, item in enumerate(expected):
            if any(not differences(item, candidate) for candidate in actual):
                continue
            # The live item to compare it with: the one of the same Key or Name, else the one at the same place.
            key = _key_of(item)
            namesake = next((c for c in actual if key and isinstance(c, dict) and _find(c, key[0]) == (True, key[1])),
                            actual[index] if not key and len(actual) == len(expected) else None)
            found += differences(item, namesake, f"{path}/{index}") if namesake is not None \
                else [Difference(f"{path}/{index}", item, None, "REMOVE")]
        return found
    return [] if _same_scalar(expected, actual) else [Difference(path, expected, actual, "NOT_EQUAL")]


def _refs(api: _Api, region: str, stack: dict[str, Any], resources: list[dict[str, Any]]) -> dict[str, Any]:
    refs: dict[str, Any] = {"AWS::NoValue": _NO_VALUE, "AWS::Region": region, "AWS::AccountId": api.account,
                            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack["StackName"],
                            "AWS::StackId": stack["StackId"]}
    for parameter in stack.get("Parameters", []):
        refs[parameter["ParameterKey"]] = parameter.get("ResolvedValue", parameter["ParameterValue"])
    for resource in resources:
        refs[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", UNKNOWN)
    return refs


def _gone(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return "NotFound" in code or "NoSuch" in code


def _resource_drift(api: _Api, region: str, logical_id: str, resource: dict[str, Any], refs: dict[str, Any]) -> ResourceDrift:
    kind, physical = resource["Type"], refs.get(logical_id, UNKNOWN)
    physical_id = physical if isinstance(physical, str) else ""
    reader = READERS.get(kind)
    if reader is None or not physical_id:
        return ResourceDrift(logical_id, physical_id, kind, "NOT_CHECKED")
    expected = resolve(resource.get("Properties", {}), refs)
    for (type_name, name) in NOT_RETURNED:
        if type_name == kind:
            expected.pop(name, None)
    try:
        actual = reader(api, region, physical_id, expected)
    except ClientError as exc:
        if _gone(exc):
            return ResourceDrift(logical_id, physical_id, kind, "DELETED", expected)
        raise
    except IndexError:  # a describe call that filters by name answered with nothing
        return ResourceDrift(logical_id, physical_id, kind, "DELETED", expected)
    found = differences(expected, actual)
    return ResourceDrift(logical_id, physical_id, kind, "MODIFIED" if found else "IN_SYNC", expected, actual, found)


def _detect(detection: Detection, account: str, region: str, stack_name: str) -> None:
    api = _Api(account)
    try:
        stack = api.call("cloudformation", "DescribeStacks", region, StackName=stack_name)["Stacks"][0]
        body = api.call("cloudformation", "GetTemplate", region, StackName=stack_name)["TemplateBody"]
        template = json.loads(body) if isinstance(body, str) else body
        resources = api.call("cloudformation", "DescribeStackResources", region, StackName=stack_name)["StackResources"]
        refs = _refs(api, region, stack, resources)
        detection.resources = [_resource_drift(api, region, logical_id, resource, refs)
                               for logical_id, resource in template.get("Resources", {}).items() if logical_id in refs]
        detection.status = "DETECTION_COMPLETE"
    except Exception as exc:
        detection.status, detection.reason = "DETECTION_FAILED", f"{type(exc).__name__}: {exc}"


def _stack_id(self: Any, name: str) -> str:
    return self.cloudformation_backend.describe_stacks(name)[0].stack_id


def _detect_stack_drift(self: Any) -> Any:
    from moto.core.responses import ActionResult

    name = self._get_param("StackName")
    stack_id = _stack_id(self, name)
    detection = Detection(str(uuid.uuid4()), stack_id)
    with _lock:
        _detections[detection.id] = detection
        _latest[(self.current_account, self.region, stack_id)] = detection.id
    threading.Thread(target=_detect, args=(detection, self.current_account, self.region, name), daemon=True,
                     name=f"drift-{name}").start()
    return ActionResult({"StackDriftDetectionId": detection.id})


def _describe_status(self: Any) -> Any:
    from moto.cloudformation.exceptions import ValidationError
    from moto.core.responses import ActionResult

    detection = _detections.get(self._get_param("StackDriftDetectionId"))
    if detection is None:
        raise ValidationError(message="Drift detection id does not exist")
    done = detection.status == "DETECTION_COMPLETE"
    answer: dict[str, Any] = {"StackId": detection.stack_id, "StackDriftDetectionId": detection.id,
                              "DetectionStatus": detection.status, "Timestamp": detection.at}
    if detection.reason:
        answer["DetectionStatusReason"] = detection.reason
    if done:
        answer["StackDriftStatus"] = "DRIFTED" if detection.drifted else "IN_SYNC"
        answer["DriftedStackResourceCount"] = len(detection.drifted)
    return ActionResult(answer)


def _describe_resource_drifts(self: Any) -> Any:
    from moto.core.responses import ActionResult

    stack_id = _stack_id(self, self._get_param("StackName"))
    detection = _detections.get(_latest.get((self.current_account, self.region, stack_id), ""))
    wanted = set(self._get_param("StackResourceDriftStatusFilters") or ["IN_SYNC", "MODIFIED", "DELETED"])
    checked = [r for r in (detection.resources if detection else []) if r.status != "NOT_CHECKED" and r.status in wanted]
    return ActionResult({"StackResourceDrifts": [{
        "StackId": stack_id, "LogicalResourceId": r.logical_id, "PhysicalResourceId": r.physical_id,
        "ResourceType": r.resource_type, "StackResourceDriftStatus": r.status, "Timestamp": detection.at,
        **({"ExpectedProperties": _text(r.expected)} if r.expected is not None else {}),
        **({"ActualProperties": _text(r.actual)} if r.actual is not None else {}),
        "PropertyDifferences": [d.shape() for d in r.differences]} for r in checked]})


def install() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    from shipyard.localaws.core.base import patch

    patch(CloudFormationResponse, "detect_stack_drift", _detect_stack_drift,
          corrects="DetectStackDrift is not implemented")
    patch(CloudFormationResponse, "describe_stack_drift_detection_status", _describe_status,
          corrects="DescribeStackDriftDetectionStatus is not implemented")
    patch(CloudFormationResponse, "describe_stack_resource_drifts", _describe_resource_drifts,
          corrects="DescribeStackResourceDrifts is not implemented")
