"""CloudFormation change sets: the shared part of `plan` (preview, then delete) and `deploy` (execute)."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from shipyard.aws import Aws
from shipyard.aws.cloudformation import ResourceChange
from shipyard.errors import ShipyardError
from shipyard.synth import StackArtifact

# CloudFormation's limit for TemplateBody; larger templates go through S3.
TEMPLATE_INLINE_LIMIT = 51_200
CAPABILITIES = ["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
# A change set without changes FAILS with this status reason (CloudFormation user guide, "Creating a change set").
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


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


def resolve_parameters(stack: StackArtifact, outputs_of: dict[str, dict[str, str]]) -> dict[str, str]:
    """Parameters filled from other stacks' outputs (e.g. the us-east-1 web ACL's ARN)."""
    parameters = {}
    for key, (source, output) in stack.parameters_from.items():
        value = outputs_of.get(source, {}).get(output)
        if value is None:
            raise ShipyardError(stack.name, f"parameter {key} needs output {output} of {source}, which has none",
                                f"deploy {source} first (shipyard deploy deploys stacks in order)")
        parameters[key] = value
    return parameters


def _template_location(aws: Aws, stack: StackArtifact, limit: int) -> dict[str, str]:
    """template_body, or for a template over CloudFormation's inline limit, template_url of a copy in S3."""
    body = template_body(stack)
    if len(body.encode()) <= limit:
        return {"template_body": body}
    bucket = f"shipyard-templates-{stack.account}-{stack.region}"
    s3 = aws.s3(stack.region)
    if not s3.exists(bucket):
        s3.create_private_bucket(bucket)
    key = f"{stack.name}/{hashlib.sha256(body.encode()).hexdigest()}.json"
    s3.put_object(bucket, key, body.encode(), content_type="application/json")
    return {"template_url": f"https://{bucket}.s3.{stack.region}.amazonaws.com/{key}"}


def create_change_set(aws: Aws, stack: StackArtifact, change_set_type: str, parameters: dict[str, str],
                      *, role_arn: str | None = None, inline_limit: int = TEMPLATE_INLINE_LIMIT,
                      timeout: float = 600, use_previous_template: bool = False,
                      resources_to_import: list[dict] | None = None) -> StackChanges:
    """Create a change set and wait until CloudFormation has computed it.

    use_previous_template re-applies what is deployed (a release: only SSM-resolved values change);
    resources_to_import goes with an IMPORT change set (shipyard adopt).
    """
    cloudformation = aws.cloudformation(stack.region)
    template = {} if use_previous_template else _template_location(aws, stack, inline_limit)
    change_set_id = cloudformation.create_change_set(
        stack=stack.name, name=f"shipyard-{int(time.time() * 1000)}", change_set_type=change_set_type, parameters=parameters,
        capabilities=CAPABILITIES, description="shipyard deploy", role_arn=role_arn, resources_to_import=resources_to_import,
        tags=stack.tags, **template)
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        described = cloudformation.change_set(change_set_id)
        if described.status == "CREATE_COMPLETE":
            return StackChanges(stack, change_set_type, described.changes, change_set_id)
        if described.status == "FAILED":
            if any(marker in described.reason for marker in _NO_CHANGES):
                cloudformation.delete_change_set(change_set_id)
                return StackChanges(stack, change_set_type, (), None)
            raise ShipyardError(f"{stack.name} change set", described.reason or "CloudFormation could not create the change set")
        if time.monotonic() > deadline:
            raise ShipyardError(f"{stack.name} change set", f"still {described.status} after {timeout:.0f}s")
        time.sleep(delay)
        delay = min(delay * 2, 5)
