"""S3 types: BucketPolicy, which moto skips, and Bucket, whose moto model applies
only encryption and tags; this handler applies the public access block,
object ownership, versioning and lifecycle rules too."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from shipyard.localaws.core.base import Delegate, Handler, patch, properties


class BucketPolicy(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str) -> None:
        self.physical_id = bucket
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = s3_backends[account_id][get_partition(region_name)]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        policy = cls(props["Bucket"])
        policy.partition = get_partition(region_name)
        return policy

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if self.physical_id in backend.buckets:
            backend.delete_bucket_policy(self.physical_id)


class Bucket(Delegate, CloudFormationModel):
    MODEL = FakeBucket

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def after(cls, bucket: Any, props: dict[str, Any], account_id: str, region_name: str) -> Any:
        backend = s3_backends[account_id][get_partition(region_name)]
        name = bucket.name
        if "PublicAccessBlockConfiguration" in props:
            backend.put_public_access_block(name, props["PublicAccessBlockConfiguration"])
        rules = props.get("OwnershipControls", {}).get("Rules", [])
        if rules:
            backend.put_bucket_ownership_controls(name, ownership=rules[0]["ObjectOwnership"])
        if "VersioningConfiguration" in props:
            backend.put_bucket_versioning(name, props["VersioningConfiguration"]["Status"])
        lifecycle = props.get("LifecycleConfiguration", {}).get("Rules", [])
        if lifecycle:
            backend.put_bucket_lifecycle(name, [_lifecycle_rule(rule) for rule in lifecycle])
        logging = props.get("LoggingConfiguration")
        if logging:  # S3 checks, as on AWS, that the target bucket lets the logging service write
            backend.put_bucket_logging(name, {"TargetBucket": logging["DestinationBucketName"],
                                              "TargetPrefix": logging.get("LogFilePrefix", "")})
        return bucket


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    api: dict[str, Any] = {"ID": rule.get("Id", ""), "Status": rule.get("Status", "Enabled"), "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": rule["NoncurrentVersionExpiration"]["NoncurrentDays"]}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    return api


# Corrections of moto's own S3 behaviour.

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
    patch(FakeBucket, "get_permission", _bucket_permission,
          corrects="bucket policies are ignored for requests moto serves; Deny and anonymous Allow statements must apply")
