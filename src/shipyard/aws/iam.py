"""IAM: a role's trust and permission policies as they are live (verify compares them with the blueprint's)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    trust: dict[str, Any]  # the trust policy document
    inline: tuple[dict[str, Any], ...]  # the inline policy documents
    managed: tuple[str, ...]  # ARNs of attached managed policies


def _document(value: Any) -> dict[str, Any]:
    """IAM returns policy documents URL-encoded (IAM API reference, GetRole); boto3 decodes some of them."""
    return json.loads(unquote(value)) if isinstance(value, str) else value


class Iam(ServiceApi):
    service = "iam"

    def trust(self, name: str) -> tuple[str, dict[str, Any]] | None:
        """(ARN, trust policy document) of the role, or None when it does not exist."""
        answer = self._found("GetRole", RoleName=name)
        return (answer["Role"]["Arn"], _document(answer["Role"]["AssumeRolePolicyDocument"])) if answer else None

    def role(self, name: str) -> Role | None:
        """The role with every policy it holds, or None when it does not exist."""
        found = self.trust(name)
        if found is None:
            return None
        inline = tuple(_document(self._call("GetRolePolicy", RoleName=name, PolicyName=policy)["PolicyDocument"])
                       for policy in self._pages("ListRolePolicies", "PolicyNames", RoleName=name))
        managed = tuple(p["PolicyArn"] for p in self._pages("ListAttachedRolePolicies", "AttachedPolicies", RoleName=name))
        return Role(name, found[0], found[1], inline, managed)

    def managed_document(self, arn: str) -> dict[str, Any] | None:
        """A managed policy's document as it is in force (its default version), or None when it does not exist."""
        policy = self._found("GetPolicy", PolicyArn=arn)
        if policy is None:
            return None
        version = self._call("GetPolicyVersion", PolicyArn=arn, VersionId=policy["Policy"]["DefaultVersionId"])
        return _document(version["PolicyVersion"]["Document"])
