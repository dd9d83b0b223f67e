"""The one small extension backend, for CloudFront resource types moto has no backend for.

moto keeps no state for CloudFront VPC origins or cache policies; shipyard's
handlers keep theirs here, per account, so the distribution handler can wire a
VPC origin into moto's own distribution and tests can prove the resources exist.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ExtensionResource:
    kind: str
    id: str
    arn: str
    config: dict[str, Any]
    tags: list[dict[str, str]] = field(default_factory=list)


@dataclass
class _AccountState:
    resources: dict[str, ExtensionResource] = field(default_factory=dict)


class ExtensionBackend:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._accounts: dict[str, _AccountState] = {}

    def create(self, account_id: str, kind: str, config: dict[str, Any]) -> ExtensionResource:
        resource_id = uuid.uuid4().hex[:14].upper()
        arn = f"arn:aws:cloudfront::{account_id}:{kind}/{resource_id}"
        resource = ExtensionResource(kind=kind, id=resource_id, arn=arn, config=config)
        with self._lock:
            self._accounts.setdefault(account_id, _AccountState()).resources[resource_id] = resource
        return resource

    def get(self, account_id: str, resource_id: str) -> ExtensionResource | None:
        with self._lock:
            return self._accounts.get(account_id, _AccountState()).resources.get(resource_id)

    def list(self, account_id: str, kind: str) -> list[ExtensionResource]:
        with self._lock:
            return [r for r in self._accounts.get(account_id, _AccountState()).resources.values() if r.kind == kind]

    def delete(self, account_id: str, resource_id: str) -> None:
        with self._lock:
            self._accounts.get(account_id, _AccountState()).resources.pop(resource_id, None)

    def reset(self) -> None:
        with self._lock:
            self._accounts.clear()


extension_backend = ExtensionBackend()
