"""A bare stack per construct test, and small template queries."""

from __future__ import annotations

import os

import aws_cdk as cdk
from aws_cdk.assertions import Template

os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")


def bare_stack(region: str = "eu-west-1") -> cdk.Stack:
    app = cdk.App(analytics_reporting=False, builtin_cloud_formation_validation=False)
    return cdk.Stack(app, "Test", env=cdk.Environment(account="123456789012", region=region),
                     synthesizer=cdk.BootstraplessSynthesizer())


def resources(template: Template, type_: str) -> dict:
    return template.find_resources(type_)


def only(template: Template, type_: str) -> dict:
    found = template.find_resources(type_)
    assert len(found) == 1, f"expected one {type_}, found {len(found)}"
    return next(iter(found.values()))["Properties"]


def statements(policy_document: dict) -> list[dict]:
    return policy_document["Statement"]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]
