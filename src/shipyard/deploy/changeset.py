"""CloudFormation change sets: the shared part of `plan` (preview, then delete) and `deploy` (execute)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from shipyard.aws import Aws, AwsError
from shipyard.errors import ShipyardError
from shipyard.synth import StackArtifact

# CloudFormation's limit for TemplateBody; larger templates go through S3.
TEMPLATE_INLINE_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# A change set without changes FAILS with this status reason (CloudFormation user guide, "Creating a change set").
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class ResourceChange:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str  # True | False | Conditional | "" when not reported
    why: str  # the properties that force a replacement, or that changed


@dataclass(frozen=True)
class StackChanges:
    stack: StackArtifact
    change_set_type: str  # CREATE | UPDATE
    changes: tuple[ResourceChange, ...]
    change_set_id: str | None

    @property
    def empty(self) -> bool:
        return not self.changes


def template_body(stack: StackArtifact) -> str:
    return json.dumps(stack.template(), separators=(",", ":"), sort_keys=True)


def changes_of_new_stack(stack: StackArtifact) -> StackChanges:
    """What creating a stack adds, read from its template (no change set needed for a preview)."""
    resources = stack.template().get("Resources", {})
    changes = tuple(ResourceChange("Add", logical_id, r["Type"], "", "") for logical_id, r in resources.items())
    return StackChanges(stack, "CREATE", changes, None)


def resolve_parameters(stack: StackArtifact, outputs_of: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """Parameters filled from other stacks' outputs (e.g. the us-east-1 web ACL's ARN)."""
    parameters = []
    for key, (source, output) in stack.parameters_from.items():
        value = outputs_of.get(source, {}).get(output)
        if value is None:
            raise ShipyardError(stack.name, f"parameter {key} needs output {output} of {source}, which has none",
                                f"deploy {source} first (shipyard deploy deploys stacks in order)")
        parameters.append({"ParameterKey": key, "ParameterValue": value})
    return parameters


def _template_argument(aws: Aws, stack: StackArtifact, limit: int) -> dict[str, str]:
    body = template_body(stack)
    if len(body.encode()) <= limit:
        return {"TemplateBody": body}
    bucket = f"shipyard-templates-{stack.account}-{stack.region}"
    _ensure_template_bucket(aws, bucket, stack.region)
    key = f"{stack.name}/{hashlib.sha256(body.encode()).hexdigest()}.json"
    aws.call("s3", "PutObject", stack.region, Bucket=bucket, Key=key, Body=body.encode(), ContentType="application/json")
    return {"TemplateURL": f"https://{bucket}.s3.{stack.region}.amazonaws.com/{key}"}


def _ensure_template_bucket(aws: Aws, bucket: str, region: str) -> None:
    try:
        aws.call("s3", "HeadBucket", region, Bucket=bucket)
        return
    except AwsError as exc:
        if not exc.not_found:
            raise
    arguments = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    aws.call("s3", "CreateBucket", region, Bucket=bucket, **arguments)
    aws.call("s3", "PutPublicAccessBlock", region, Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})


def create_change_set(aws: Aws, stack: StackArtifact, change_set_type: str, parameters: list[dict[str, str]],
                      *, role_arn: str | None = None, inline_limit: int = TEMPLATE_INLINE_LIMIT,
                      timeout: float = 600, use_previous_template: bool = False) -> StackChanges:
    """Create a change set and wait until CloudFormation has computed it.

    use_previous_template re-applies what is deployed (a release: only SSM-resolved values change).
    """
    name = f"shipyard-{int(time.time() * 1000)}"
    template = {"UsePreviousTemplate": True} if use_previous_template else _template_argument(aws, stack, inline_limit)
    arguments = dict(StackName=stack.name, ChangeSetName=name, ChangeSetType=change_set_type, Parameters=parameters,
                     Capabilities=CAPABILITIES, Description="shipyard deploy", **template)
    if role_arn:
        arguments["RoleARN"] = role_arn
    change_set_id = aws.call("cloudformation", "CreateChangeSet", stack.region, **arguments)["Id"]
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        description = aws.call("cloudformation", "DescribeChangeSet", stack.region, ChangeSetName=change_set_id)
        status = description["Status"]
        if status == "CREATE_COMPLETE":
            break
        if status == "FAILED":
            reason = description.get("StatusReason", "")
            if any(marker in reason for marker in _NO_CHANGES):
                delete_change_set(aws, stack, change_set_id)
                return StackChanges(stack, change_set_type, (), None)
            raise ShipyardError(f"{stack.name} change set", reason or "CloudFormation could not create the change set")
        if time.monotonic() > deadline:
            raise ShipyardError(f"{stack.name} change set", f"still {status} after {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 5)
    changes = tuple(_resource_change(c["ResourceChange"]) for c in description.get("Changes", []) if "ResourceChange" in c)
    return StackChanges(stack, change_set_type, changes, change_set_id)


def _resource_change(change: dict) -> ResourceChange:
    details = change.get("Details", []) or []
    recreating = sorted({d["Target"].get("Name") or d["Target"].get("Attribute", "")
                         for d in details if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")})
    changed = sorted({d["Target"].get("Name") or d["Target"].get("Attribute", "") for d in details if d.get("Target")})
    why = ("replaced because of " + ", ".join(recreating)) if recreating else ", ".join(n for n in changed if n)
    return ResourceChange(change.get("Action", ""), change.get("LogicalResourceId", ""), change.get("ResourceType", ""),
                          change.get("Replacement", ""), why)


def delete_change_set(aws: Aws, stack: StackArtifact, change_set_id: str) -> None:
    aws.call("cloudformation", "DeleteChangeSet", stack.region, ChangeSetName=change_set_id)
