"""What a rule is: metadata (id, severity, category, descriptions, rationale), a check over one template, and
its live half: what `shipyard verify` asks AWS about the same property of the deployed environment.

Rule ids read SY-<severity letter><category digit><number>: SY-E101 is an
error about the edge, SY-W503 a warning about the service. A finding reads the
same before and after deploy because both halves carry the rule's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from shipyard.checks.live import LiveEnvironment, LiveFinding


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Category(IntEnum):
    EDGE = 1
    NETWORK = 2
    IDENTITY = 3
    REGISTRY = 4
    SERVICE = 5
    LOGGING = 6
    MESSAGING = 7
    DATABASE = 8
    STACKS = 9


@dataclass(frozen=True)
class Limits:
    """Numbers rules compare against; set in shipyard.toml [checks]."""

    max_deregistration_delay: int = 30
    max_time_to_healthy: int = 30


@dataclass(frozen=True)
class StackView:
    """One synthesized stack as a rule sees it."""

    environment: str
    production: bool
    stack: str
    template: dict[str, Any]
    limits: Limits = field(default_factory=Limits)

    def resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") in types:
                yield logical_id, resource.get("Properties", {}) or {}


@dataclass(frozen=True)
class Violation:
    resource: str
    message: str


class Rule:
    id: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category]
    short: ClassVar[str]
    long: ClassVar[str]
    rationale: ClassVar[str]
    # The live half: the title `verify` prints for it, or, for a rule without one, why not (one line).
    verify_title: ClassVar[str] = ""
    no_live_check: ClassVar[str] = ""

    def check(self, view: StackView) -> Iterator[Violation]:
        raise NotImplementedError

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        raise NotImplementedError(f"{self.id} has no live half: {self.no_live_check}")

    def findings_on(self, resource_type: str, properties: dict[str, Any]) -> list[str]:
        """This rule's static findings on one live resource, read through its API in the template's shape."""
        view = StackView("live", False, "live", {"Resources": {"Live": {"Type": resource_type, "Properties": properties}}})
        return [v.message for v in self.check(view)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def grants_anyone(document: Any) -> bool:
    """An Allow to every principal ('*' or AWS '*')."""
    return any(s.get("Effect") == "Allow" and (s.get("Principal") == "*" or "*" in as_list((s.get("Principal") or {}).get("AWS")))
               for s in statements(document))


def referenced_id(ref: Any) -> str | None:
    """The logical id a Ref or Fn::GetAtt names; None for anything else."""
    if isinstance(ref, dict):
        return ref.get("Fn::GetAtt", [None])[0] if "Fn::GetAtt" in ref else ref.get("Ref")
    return None


def open_ingress(view: StackView, groups: set[str | None]) -> Iterator[tuple[str, str]]:
    """(group, source) for every rule of these security groups (inline or AWS::EC2::SecurityGroupIngress) that admits
    an address range or a prefix list rather than another security group."""
    rules = [(logical_id, rule) for logical_id, props in view.resources("AWS::EC2::SecurityGroup") if logical_id in groups
             for rule in props.get("SecurityGroupIngress") or []]
    rules += [(referenced_id(rule.get("GroupId")), rule) for _, rule in view.resources("AWS::EC2::SecurityGroupIngress")
              if referenced_id(rule.get("GroupId")) in groups]
    for logical_id, rule in rules:
        source = rule.get("CidrIp") or rule.get("CidrIpv6") or rule.get("SourcePrefixListId")
        if source:
            yield str(logical_id), source


def service_security_groups(props: dict[str, Any]) -> list[Any]:
    """An AWS::ECS::Service's security groups, as its template references them."""
    return ((props.get("NetworkConfiguration") or {}).get("AwsvpcConfiguration") or {}).get("SecurityGroups", [])
