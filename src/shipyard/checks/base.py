"""What a rule is: metadata (id, severity, category, descriptions, rationale) and a check over one template.

Rule ids read SY-<severity letter><category digit><number>: SY-E101 is an
error about the edge, SY-W503 a warning about the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, ClassVar


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
    DATABASE = 8


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

    def check(self, view: StackView) -> Iterator[Violation]:
        raise NotImplementedError


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]
