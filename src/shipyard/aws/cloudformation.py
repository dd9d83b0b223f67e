"""CloudFormation: stacks, their events, resources and templates, and change sets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shipyard.aws.session import AwsError, ServiceApi


@dataclass(frozen=True)
class Stack:
    name: str
    status: str
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # as resolved (an SSM parameter's value, not its name)
    termination_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    given_parameters: dict[str, str] = field(default_factory=dict)  # as given (an SSM parameter's name)
    created: datetime | None = None


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""
    physical_id: str = ""
    timestamp: datetime | None = None


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    physical_id: str
    resource_type: str


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional | "" when not reported
    why: str  # the properties that force a replacement, or that changed


@dataclass(frozen=True)
class ChangeSet:
    id: str
    status: str  # CREATE_PENDING | CREATE_IN_PROGRESS | CREATE_COMPLETE | FAILED | ...
    reason: str
    changes: tuple[ResourceChange, ...]


@dataclass(frozen=True)
class PropertyDrift:
    path: str  # /LoadBalancerAttributes/3/Value
    expected: str
    actual: str
    kind: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    physical_id: str
    resource_type: str
    status: str  # MODIFIED | DELETED
    properties: tuple[PropertyDrift, ...]


@dataclass(frozen=True)
class DriftDetection:
    status: str  # DETECTION_IN_PROGRESS | DETECTION_COMPLETE | DETECTION_FAILED
    reason: str

    @property
    def done(self) -> bool:
        return self.status != "DETECTION_IN_PROGRESS"


class CloudFormation(ServiceApi):
    service = "cloudformation"

    def stack(self, name: str) -> Stack | None:
        stacks = self._described(StackName=name)
        return _stack(stacks[0], name) if stacks else None

    def stacks(self) -> list[Stack]:
        """Every stack of the account and region that is not deleted, with its tags."""
        return [_stack(s, s["StackName"]) for s in self._described() if s["StackStatus"] != "DELETE_COMPLETE"]

    def _described(self, **name: str) -> list[dict[str, Any]]:
        """DescribeStacks, every page; nothing where the named stack does not exist."""
        try:
            return self._pages("DescribeStacks", "Stacks", **name)
        except AwsError as exc:
            if exc.not_found:
                return []
            raise

    def events(self, name: str, *, after: set[str] | frozenset[str] = frozenset()) -> list[StackEvent]:
        """Newest first, as CloudFormation returns them; none for a stack that is gone. after: ids of events already
        seen; the pages stop at the first of them (older ones were seen too), so a poll reads one page, not the history."""
        found: list[StackEvent] = []
        for page in self._event_pages(name):
            for e in page:
                if e["EventId"] in after:
                    return found
                found.append(StackEvent(e["EventId"], e.get("LogicalResourceId", ""), e.get("ResourceType", ""),
                                        e.get("ResourceStatus", ""), e.get("ResourceStatusReason") or "",
                                        e.get("PhysicalResourceId") or "", e.get("Timestamp")))
        return found

    def newest_event(self, name: str) -> set[str]:
        """The id of the stack's newest event (none for a stack without events): events(after=) it are the ones to come."""
        return {e["EventId"] for e in next(self._event_pages(name), [])[:1]}

    def _event_pages(self, name: str) -> Iterator[list[dict[str, Any]]]:
        token: dict[str, str] = {}
        while True:
            page = self._found("DescribeStackEvents", StackName=name, **token)
            if page is None:
                return
            yield page.get("StackEvents", [])
            if not page.get("NextToken"):
                return
            token = {"NextToken": page["NextToken"]}

    def template(self, name: str) -> dict[str, Any] | None:
        """The template CloudFormation holds for the stack, or None when there is no stack."""
        found = self._found("GetTemplate", StackName=name)
        if found is None:
            return None
        body = found["TemplateBody"]
        return body if isinstance(body, dict) else json.loads(body)

    def resources(self, name: str) -> list[StackResource]:
        answer = self._call("DescribeStackResources", StackName=name)
        return [StackResource(r["LogicalResourceId"], r.get("PhysicalResourceId", ""), r["ResourceType"])
                for r in answer["StackResources"]]

    def exports(self) -> dict[str, str]:
        return {e["Name"]: e["Value"] for e in self._pages("ListExports", "Exports")}

    def create_change_set(self, *, stack: str, name: str, change_set_type: str, parameters: dict[str, str],
                          capabilities: list[str], description: str, template_body: str | None = None,
                          template_url: str | None = None, role_arn: str | None = None,
                          resources_to_import: list[dict[str, Any]] | None = None, tags: dict[str, str] | None = None) -> str:
        """A change set from a template (body or S3 URL), or of the deployed template when neither is given;
        resources_to_import with an IMPORT change set."""
        template: dict[str, Any] = ({"TemplateBody": template_body} if template_body is not None else
                                    {"TemplateURL": template_url} if template_url is not None else {"UsePreviousTemplate": True})
        arguments: dict[str, Any] = dict(
            StackName=stack, ChangeSetName=name, ChangeSetType=change_set_type, Capabilities=capabilities, Description=description,
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()], **template)
        if role_arn:
            arguments["RoleARN"] = role_arn
        if resources_to_import:
            arguments["ResourcesToImport"] = resources_to_import
        if tags:  # the stack's own, which CloudFormation also puts on every resource that takes tags
            arguments["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
        return self._call("CreateChangeSet", **arguments)["Id"]

    def change_set(self, change_set_id: str) -> ChangeSet:
        answer = self._call("DescribeChangeSet", ChangeSetName=change_set_id)
        changes = tuple(_resource_change(c["ResourceChange"]) for c in answer.get("Changes", []) if "ResourceChange" in c)
        return ChangeSet(change_set_id, answer["Status"], answer.get("StatusReason", ""), changes)

    def execute_change_set(self, change_set_id: str, *, disable_rollback: bool = False) -> None:
        """disable_rollback: a failed change keeps what it made (the stack CREATE_FAILED or UPDATE_FAILED)."""
        self._call("ExecuteChangeSet", ChangeSetName=change_set_id, **({"DisableRollback": True} if disable_rollback else {}))

    def delete_change_set(self, change_set_id: str) -> None:
        self._call("DeleteChangeSet", ChangeSetName=change_set_id)

    def delete_stack(self, name: str) -> None:
        self._call("DeleteStack", StackName=name)

    def cancel_update(self, name: str) -> None:
        self._call("CancelUpdateStack", StackName=name)

    def continue_update_rollback(self, name: str) -> None:
        self._call("ContinueUpdateRollback", StackName=name)

    def detect_drift(self, name: str) -> str:
        """Starts CloudFormation's drift detection of a stack; its id."""
        return self._call("DetectStackDrift", StackName=name)["StackDriftDetectionId"]

    def drift_detection(self, detection_id: str) -> DriftDetection:
        found = self._call("DescribeStackDriftDetectionStatus", StackDriftDetectionId=detection_id)
        return DriftDetection(found["DetectionStatus"], found.get("DetectionStatusReason", ""))

    def drifted_resources(self, name: str) -> list[ResourceDrift]:
        """The resources the stack's newest drift detection found MODIFIED or DELETED, each property that differs."""
        return [ResourceDrift(d["LogicalResourceId"], d.get("PhysicalResourceId", ""), d["ResourceType"],
                              d["StackResourceDriftStatus"],
                              tuple(PropertyDrift(p["PropertyPath"], p.get("ExpectedValue", ""), p.get("ActualValue", ""),
                                                  p["DifferenceType"]) for p in d.get("PropertyDifferences", [])))
                for d in self._pages("DescribeStackResourceDrifts", "StackResourceDrifts", StackName=name,
                                     StackResourceDriftStatusFilters=["MODIFIED", "DELETED"])]

    def protect_from_termination(self, name: str, enabled: bool) -> None:
        self._call("UpdateTerminationProtection", StackName=name, EnableTerminationProtection=enabled)


def _resource_change(change: dict[str, Any]) -> ResourceChange:
    details = change.get("Details", []) or []
    recreating = sorted({d["Target"].get("Name") or d["Target"].get("Attribute", "")
                         for d in details if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")})
    changed = sorted({d["Target"].get("Name") or d["Target"].get("Attribute", "") for d in details if d.get("Target")})
    why = ("replaced because of " + ", ".join(recreating)) if recreating else ", ".join(n for n in changed if n)
    return ResourceChange(change.get("Action", ""), change.get("LogicalResourceId", ""), change.get("ResourceType", ""),
                          change.get("Replacement", ""), why)


def _stack(stack: dict[str, Any], name: str) -> Stack:
    given = stack.get("Parameters", []) or []
    return Stack(
        name=name, status=stack["StackStatus"], reason=stack.get("StackStatusReason", ""),
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", []) or []},
        parameters={p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", "")) for p in given},
        termination_protection=bool(stack.get("EnableTerminationProtection")),
        tags={t["Key"]: t["Value"] for t in stack.get("Tags", []) or []},
        given_parameters={p["ParameterKey"]: p.get("ParameterValue", "") for p in given}, created=stack.get("CreationTime"))
