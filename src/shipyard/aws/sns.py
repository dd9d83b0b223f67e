"""SNS: a fan-out topic, as the checks read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import ServiceApi
from shipyard.naming import partition


@dataclass(frozen=True)
class Topic:
    arn: str
    kms_key: str | None  # KmsMasterKeyId: SSE with this key, None when the topic is not encrypted
    policy: dict[str, Any] | None


class Sns(ServiceApi):
    service = "sns"

    def topic(self, name: str) -> Topic | None:
        """A topic of this account and region by name; None when it does not exist."""
        arn = f"arn:{partition(self.region)}:sns:{self.region}:{self.account}:{name}"
        found = self._found("GetTopicAttributes", TopicArn=arn)
        if found is None:
            return None
        attributes = found.get("Attributes", {})
        policy = attributes.get("Policy")
        return Topic(arn, attributes.get("KmsMasterKeyId") or None, json.loads(policy) if policy else None)
