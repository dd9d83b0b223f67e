"""The code's boundaries, checked: the sealed embedded AWS, unique module names, obligations that must not be forgotten."""

from __future__ import annotations

import ast
import copy
import functools
from collections import Counter
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "shipyard"
COMPOSITION_ROOT = SRC / "app" / "target.py"


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "__pycache__" not in p.parts)


@functools.cache
def _nodes(path: Path) -> tuple[ast.AST, ...]:
    """Every node of the module's syntax tree, parsed once for all the tests here."""
    return tuple(ast.walk(ast.parse(path.read_text())))


@functools.cache
def _imports(path: Path) -> frozenset[str]:
    names: set[str] = set()
    for node in _nodes(path):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return frozenset(names)


def test_only_the_composition_root_imports_the_embedded_aws():
    importers = [p.relative_to(SRC).as_posix() for p in _modules()
                 if "localaws" not in p.relative_to(SRC).parts and any("shipyard.localaws" in n for n in _imports(p))]
    assert importers == [COMPOSITION_ROOT.relative_to(SRC).as_posix()]


def test_the_embedded_aws_takes_nothing_from_the_core_but_its_seam():
    """localaws imports from the rest of shipyard only shipyard.errors, the error types the command line prints."""
    leaks = sorted({f"{p.relative_to(SRC).as_posix()}: {n}" for p in _modules() if "localaws" in p.relative_to(SRC).parts
                    for n in _imports(p) if n.startswith("shipyard") and not n.startswith(("shipyard.localaws", "shipyard.errors"))})
    assert leaks == []


def test_every_service_of_the_embedded_aws_is_a_package_of_its_own():
    from shipyard.localaws.core import registry

    services = registry.service_packages()
    assert {"cloudformation", "ecs", "cloudfront", "rds", "ecr"} <= set(services)
    loose = [p.name for p in (SRC / "localaws").glob("*.py") if p.stem not in ("__init__", "server")]
    assert loose == [], "a module of the embedded AWS belongs in its service's package (or core/)"


def test_moto_is_known_only_inside_the_embedded_aws():
    leaks = [p.relative_to(SRC).as_posix() for p in _modules() if "localaws" not in p.relative_to(SRC).parts
             and (any(n == "moto" or n.startswith("moto.") for n in _imports(p)) or "x-moto" in p.read_text())]
    assert leaks == []


def test_no_two_modules_share_a_name():
    # The embedded AWS is laid out like moto, a package per AWS service, each with the same kinds of module.
    names = Counter(p.stem for p in _modules() if p.stem != "__init__" and "localaws" not in p.relative_to(SRC).parts)
    assert [name for name, count in names.items() if count > 1] == []


def _operation_names() -> set[str]:
    """Every operation name of the AWS services shipyard calls, from botocore's service models."""
    import botocore.session

    session = botocore.session.get_session()
    services = ("cloudformation", "ecs", "ecr", "elbv2", "ec2", "s3", "ssm", "cloudwatch", "logs", "rds", "secretsmanager",
                "application-autoscaling", "acm", "iam", "cloudfront", "wafv2", "route53", "pricing", "sts")
    return {name for service in services for name in session.get_service_model(service).operation_names}


def test_no_aws_operation_is_spelled_outside_the_aws_boundary():
    """The core names no AWS service operation: each is one method of a typed client in shipyard/aws/. Counted as
    string constants equal to an operation name, and generic calls. Not counted: the embedded AWS, which implements
    the operations, and the blueprint, which calls none (its IAM policies name actions, some of which share a name)."""
    operations = _operation_names()
    found = []
    for path in _modules():
        parts = path.relative_to(SRC).parts
        if parts[0] in ("aws", "localaws", "blueprint"):
            continue
        for node in _nodes(path):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in operations:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("call", "paginate") \
                    and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.func.attr}({node.args[0].value!r}, ...)")
    assert found == []


def test_every_aws_operation_is_written_once():
    spelled = Counter()
    for path in (SRC / "aws").glob("*.py"):
        for node in _nodes(path):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("_call", "_pages", "_found", "call") \
                    and node.args and isinstance(node.args[0], ast.Constant):
                key = (node.args[0].value, node.args[1].value) if node.func.attr == "call" else (path.stem, node.args[0].value)
                spelled[key] += 1
    twice = {key: n for key, n in spelled.items() if n > 1}
    assert spelled and twice == {}


def test_no_error_is_recognised_by_its_message_text():
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in _modules() for n, line in enumerate(p.read_text().splitlines(), 1)
                 if '" in exc.' in line or "in exc.what" in line]
    assert offenders == []


def test_every_rule_has_a_live_half_or_says_in_one_line_why_not():
    from shipyard.checks.base import Rule
    from shipyard.checks.rules import RULES

    for rule in RULES:
        has_live = type(rule).verify is not Rule.verify
        assert has_live == bool(rule.verify_title), f"{rule.id}: a live half needs the title verify prints, and only it"
        assert has_live or (rule.no_live_check and "\n" not in rule.no_live_check), f"{rule.id}: no live half and no reason"


def test_every_emulator_patch_names_the_moto_behaviour_it_corrects():
    from shipyard.localaws import server
    from shipyard.localaws.core import base as _base

    server.register_handlers()
    assert len(_base.PATCHES) >= 15
    for patch in _base.PATCHES:
        assert len(patch.corrects) > 20 and "\n" not in patch.corrects, patch


def test_every_resource_type_of_the_blueprint_is_priced_or_free(templates):
    from shipyard.cost.estimate import unpriced_types

    assert unpriced_types(list(templates.values())) == []


def test_a_resource_type_without_a_price_fails_the_estimate(templates):
    from shipyard.cost.estimate import UnpricedResource, footprint

    template = copy.deepcopy(next(iter(templates.values())))
    template["Resources"]["Stream"] = {"Type": "AWS::Kinesis::Stream", "Properties": {}}
    with pytest.raises(UnpricedResource, match="no price for AWS::Kinesis::Stream"):
        footprint([template])


def test_every_resource_type_of_the_blueprint_can_be_built_by_the_embedded_aws(templates):
    from shipyard.localaws.server import unsupported_types

    assert {name: unsupported_types(t) for name, t in templates.items() if unsupported_types(t)} == {}


def test_a_resource_type_without_handler_or_moto_support_is_named():
    from shipyard.localaws.server import unsupported_types

    template = {"Resources": {"Runner": {"Type": "AWS::AppRunner::Service"}, "Topic": {"Type": "AWS::SNS::Topic"}}}
    assert unsupported_types(template) == ["AWS::AppRunner::Service"]


def test_the_blueprint_declares_its_cross_stack_parameters(assemblies):
    wiring = {s.name: s.parameters_from for a in assemblies.values() for s in a.stacks if s.parameters_from}
    assert wiring == {
        "webapp-production-edge": {"WebAclArn": ("webapp-production-global", "WebAclArn")},
        "webapp-staging-edge-alarms": {"DistributionId": ("webapp-staging-edge", "DistributionId")},
        "webapp-production-edge-alarms": {"DistributionId": ("webapp-production-edge", "DistributionId")},
    }
