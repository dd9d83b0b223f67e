"""A model of IAM's evaluation of identity policies, as far as the deploy role's policies use it.

An action is allowed when an Allow statement matches its action, its resource and its conditions, and no Deny
statement does (IAM user guide, "Policy evaluation logic"). Action and resource patterns use `*` and `?`
(case-insensitive for actions); the condition operators modelled are the ones the blueprint writes, and any other
operator fails the evaluation loudly instead of being ignored.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# SDK service name -> IAM service prefix, where they differ.
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}
# SDK operation -> IAM action, where the action is not the operation's name (Service Authorization Reference).
ACTION_OF = {("s3", "ListObjectsV2"): "s3:ListBucket", ("s3", "DeleteObjects"): "s3:DeleteObject",
             ("s3", "HeadBucket"): "s3:ListBucket"}


@dataclass(frozen=True)
class Request:
    action: str
    resources: tuple[str, ...]
    context: dict[str, Any] = field(default_factory=dict)  # shipyard's own calls carry no aws:CalledVia


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def live_policies(aws: Any, role: str) -> list[dict[str, Any]]:
    """The role's inline and attached policy documents, as IAM returns them."""
    documents = []
    for name in aws.call("iam", "ListRolePolicies", "us-east-1", RoleName=role)["PolicyNames"]:
        document = aws.call("iam", "GetRolePolicy", "us-east-1", RoleName=role, PolicyName=name)["PolicyDocument"]
        documents.append(json.loads(unquote(document)) if isinstance(document, str) else document)
    attached = aws.call("iam", "ListAttachedRolePolicies", "us-east-1", RoleName=role)["AttachedPolicies"]
    assert not attached, f"{role} has managed policies attached: {attached}"
    return documents


def statements(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for d in documents for s in _as_list(d.get("Statement", []))]


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            value = context.get(key)
            if value is None:
                return False
            allowed = _as_list(expected)
            if operator == "ForAnyValue:StringEquals":  # a multivalued key: any of its values matches
                if not set(_as_list(value)) & set(allowed):
                    return False
            elif operator in ("StringEquals", "ArnEquals"):
                if value not in allowed:
                    return False
            elif operator == "Bool":  # a boolean key, which the request context carries as "true" or "false"
                if str(value).lower() not in [str(a).lower() for a in allowed]:
                    return False
            elif operator in ("StringLike", "ArnLike"):
                if not any(fnmatch.fnmatchcase(value, pattern) for pattern in allowed):
                    return False
            else:
                raise AssertionError(f"condition operator {operator} is not modelled; add it to iam_model.py")
    return True


def _matches(statement: dict[str, Any], request: Request, resource: str) -> bool:
    actions = [a.lower() for a in _as_list(statement.get("Action", []))]
    if not any(fnmatch.fnmatchcase(request.action.lower(), a) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource", []))):
        return False
    return _condition_holds(statement.get("Condition", {}), request.context)


def allowed(documents: list[dict[str, Any]], request: Request) -> bool:
    """Every resource of the request is allowed by some Allow and denied by no Deny."""
    found = statements(documents)
    for resource in request.resources:
        if any(s.get("Effect") == "Deny" and _matches(s, request, resource) for s in found):
            return False
        if not any(s.get("Effect") == "Allow" and _matches(s, request, resource) for s in found):
            return False
    return True


def granted_actions(documents: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements(documents) if s.get("Effect") == "Allow" for a in _as_list(s.get("Action", []))}
