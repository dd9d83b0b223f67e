"""IAM drift: a role's live policies against what the synthesized templates grant it (SY-E302's live half).

The templates' policy documents are resolved the way CloudFormation resolved
them, from the deployed stacks' own resources and parameters. A value only
CloudFormation knows (Fn::GetAtt) matches any live value except "*", so a
statement widened to every resource is drift even where the template holds
an attribute.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any

from shipyard.checks.live import LiveEnvironment

UNRESOLVED = "\x00"  # stands for a value only CloudFormation knows


@dataclass(frozen=True)
class RoleDrift:
    role: str
    extra: list[str]  # live statements the blueprint does not grant
    missing: list[str]  # granted statements the live role lacks
    trust_changed: bool

    @property
    def drifted(self) -> bool:
        return bool(self.extra or self.missing or self.trust_changed)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resolve(node: Any, refs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if len(node) == 1:
            (key, value), = node.items()
            if key == "Ref":
                return refs.get(value, UNRESOLVED)
            if key == "Fn::GetAtt":
                return UNRESOLVED
            if key == "Fn::Join":
                parts = [_resolve(p, refs) for p in value[1]]
                return value[0].join(p if isinstance(p, str) else UNRESOLVED for p in parts)
            if key == "Fn::ImportValue":
                return refs.get(f"export:{_resolve(value, refs)}", UNRESOLVED)
            if key == "Fn::Sub":
                return UNRESOLVED
        return {k: _resolve(v, refs) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(item, refs) for item in node]
    return node


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and UNRESOLVED in expected:
        return isinstance(actual, str) and actual != "*" and fnmatch.fnmatchcase(actual, expected.replace(UNRESOLVED, "*"))
    if isinstance(expected, dict) or isinstance(actual, dict):
        if not (isinstance(expected, dict) and isinstance(actual, dict)) or set(expected) != set(actual):
            return False
        return all(_same(expected[k], actual[k]) for k in expected)
    if isinstance(expected, list) or isinstance(actual, list):
        wanted, found = _as_list(expected), _as_list(actual)
        return len(wanted) == len(found) and all(any(_same(w, f) for f in found) for w in wanted)
    return str(expected) == str(actual)


def _statement_matches(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    keys = ("Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal")
    return all(_same(expected.get(k), actual.get(k)) for k in keys if k in expected or k in actual)


def _compare(granted: list[dict[str, Any]], live: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    """(granted statements the live policy lacks, live statements nothing granted matches)."""
    left = list(live)
    missing = []
    for statement in granted:
        match = next((candidate for candidate in left if _statement_matches(statement, candidate)), None)
        if match is None:
            missing.append(statement)
        else:
            left.remove(match)
    return missing, left


def _show(statement: dict[str, Any]) -> str:
    text = json.dumps({k: v for k, v in statement.items() if k != "Sid"}, sort_keys=True).replace(UNRESOLVED, "?")
    return (f"{statement['Sid']}: " if statement.get("Sid") else "") + (text if len(text) <= 240 else text[:237] + "...")


def synthesized_role(live: LiveEnvironment, role_name: str) -> tuple[list[dict], list[dict], set[str]] | None:
    """(trust statements, permission statements, ARNs of the managed policies attached) the templates give the role,
    resolved as deployed; None if absent."""
    trust: list[dict] | None = None
    permissions: list[dict] = []
    managed: set[str] = set()
    for stack in live.assembly.stacks:
        resources = live.template(stack).get("Resources", {})
        role_ids = {logical for logical, r in resources.items()
                    if r.get("Type") == "AWS::IAM::Role" and (r.get("Properties") or {}).get("RoleName") == role_name}
        policies = {logical: r for logical, r in resources.items() if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
                    and any(ref == role_name or (isinstance(ref, dict) and ref.get("Ref") in role_ids)
                            for ref in (r.get("Properties") or {}).get("Roles", []))}
        if not role_ids and not policies:
            continue
        refs = live.stack_refs(stack, UNRESOLVED)
        for logical in role_ids:
            properties = _resolve(resources[logical].get("Properties") or {}, refs)
            trust = _as_list(properties["AssumeRolePolicyDocument"].get("Statement", []))
            for inline in properties.get("Policies") or []:
                permissions += _as_list(inline["PolicyDocument"].get("Statement", []))
        for logical, policy in policies.items():
            permissions += _as_list(_resolve(policy["Properties"]["PolicyDocument"], refs).get("Statement", []))
            if policy["Type"] == "AWS::IAM::ManagedPolicy":
                managed.add(refs.get(logical, UNRESOLVED))  # a managed policy's Ref is its ARN
    return None if trust is None else (trust, permissions, managed)


def role_drift(live: LiveEnvironment, role_name: str) -> RoleDrift:
    synthesized = synthesized_role(live, role_name)
    if synthesized is None:
        raise LookupError(f"no role named {role_name} in the templates")
    trust, granted, attached = synthesized
    iam = live.aws.iam()
    role = iam.role(role_name)
    if role is None:
        return RoleDrift(role_name, [], [_show(s) for s in granted], True)
    # The managed policies the templates attach count with what they hold now; any other attached policy is extra.
    documents = [*role.inline, *(iam.managed_document(arn) or {} for arn in role.managed if arn in attached)]
    live_statements = [statement for document in documents for statement in _as_list(document.get("Statement", []))]
    extra = [f"managed policy {arn}" for arn in role.managed if arn not in attached]
    lacking, unexpected = _compare(granted, live_statements)
    extra += [_show(s) for s in unexpected]
    missing = [_show(s) for s in lacking]
    trust_changed = any(_compare(trust, _as_list(role.trust.get("Statement", []))))
    return RoleDrift(role_name, extra, missing, trust_changed)
