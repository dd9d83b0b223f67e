"""IAM drift: a role's live policies against what the synthesized templates grant it (used by verify).

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
from urllib.parse import unquote

from shipyard.aws import Aws
from shipyard.synth import EnvironmentAssembly

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


def _document(value: Any) -> dict[str, Any]:
    return json.loads(unquote(value)) if isinstance(value, str) else value


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


def synthesized_role(aws: Aws, assembly: EnvironmentAssembly, role_name: str) -> tuple[list[dict], list[dict]] | None:
    """(trust statements, permission statements) the templates give the role, resolved as deployed; None if absent."""
    trust: list[dict] | None = None
    permissions: list[dict] = []
    for stack in assembly.stacks:
        template = stack.template()
        resources = template.get("Resources", {})
        role_ids = {logical for logical, r in resources.items()
                    if r.get("Type") == "AWS::IAM::Role" and (r.get("Properties") or {}).get("RoleName") == role_name}
        policies = [r for r in resources.values() if r.get("Type") == "AWS::IAM::Policy"
                    and any(ref == role_name or (isinstance(ref, dict) and ref.get("Ref") in role_ids)
                            for ref in (r.get("Properties") or {}).get("Roles", []))]
        if not role_ids and not policies:
            continue
        refs = _stack_refs(aws, stack)
        for logical in role_ids:
            properties = _resolve(resources[logical].get("Properties") or {}, refs)
            trust = _as_list(properties["AssumeRolePolicyDocument"].get("Statement", []))
            for inline in properties.get("Policies") or []:
                permissions += _as_list(inline["PolicyDocument"].get("Statement", []))
        for policy in policies:
            permissions += _as_list(_resolve(policy["Properties"]["PolicyDocument"], refs).get("Statement", []))
    return None if trust is None else (trust, permissions)


def _stack_refs(aws: Aws, stack: Any) -> dict[str, Any]:
    described = aws.call("cloudformation", "DescribeStacks", stack.region, StackName=stack.name)["Stacks"][0]
    refs: dict[str, Any] = {"AWS::Region": stack.region, "AWS::AccountId": aws.account, "AWS::Partition": "aws",
                            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": stack.name}
    for parameter in described.get("Parameters", []):
        refs[parameter["ParameterKey"]] = parameter.get("ResolvedValue", parameter["ParameterValue"])
    for resource in aws.call("cloudformation", "DescribeStackResources", stack.region, StackName=stack.name)["StackResources"]:
        refs[resource["LogicalResourceId"]] = resource.get("PhysicalResourceId", UNRESOLVED)
    for export in aws.paginate("cloudformation", "ListExports", stack.region, "Exports"):
        refs[f"export:{export['Name']}"] = export["Value"]
    return refs


def role_drift(aws: Aws, assembly: EnvironmentAssembly, role_name: str) -> RoleDrift:
    synthesized = synthesized_role(aws, assembly, role_name)
    if synthesized is None:
        raise LookupError(f"no role named {role_name} in the templates")
    trust, granted = synthesized
    role = aws.call("iam", "GetRole", "us-east-1", RoleName=role_name)["Role"]
    live_trust = _as_list(_document(role["AssumeRolePolicyDocument"]).get("Statement", []))
    live: list[dict] = []
    for name in aws.call("iam", "ListRolePolicies", "us-east-1", RoleName=role_name)["PolicyNames"]:
        document = aws.call("iam", "GetRolePolicy", "us-east-1", RoleName=role_name, PolicyName=name)["PolicyDocument"]
        live += _as_list(_document(document).get("Statement", []))
    extra = [f"managed policy {p['PolicyArn']}" for p in
             aws.call("iam", "ListAttachedRolePolicies", "us-east-1", RoleName=role_name)["AttachedPolicies"]]
    lacking, unexpected = _compare(granted, live)
    extra += [_show(s) for s in unexpected]
    missing = [_show(s) for s in lacking]
    trust_changed = any(_compare(trust, live_trust))
    return RoleDrift(role_name, extra, missing, trust_changed)
