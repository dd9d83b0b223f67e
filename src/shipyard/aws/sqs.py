"""SQS: a worker's queue and dead-letter queue, as the release verdict and the checks read them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Queue:
    url: str
    visible: int  # ApproximateNumberOfMessages
    in_flight: int  # ApproximateNumberOfMessagesNotVisible: received, not yet deleted
    policy: dict[str, Any] | None
    sse_sqs: bool  # SqsManagedSseEnabled
    kms_key: str | None  # KmsMasterKeyId (SSE-KMS)
    redrive: dict[str, Any] | None  # RedrivePolicy: deadLetterTargetArn, maxReceiveCount
    visibility_timeout: int = 30  # VisibilityTimeout: seconds a received message stays hidden from other consumers

    @property
    def encrypted(self) -> bool:
        return self.sse_sqs or bool(self.kms_key)


class Sqs(ServiceApi):
    service = "sqs"

    def queue(self, name: str) -> Queue | None:
        """A queue by name with what the verdict and the checks read of it; None when it does not exist."""
        found = self._found("GetQueueUrl", QueueName=name)
        if found is None:
            return None
        url = found["QueueUrl"]
        answer = self._found("GetQueueAttributes", QueueUrl=url, AttributeNames=["All"])
        if answer is None:
            return None
        attributes = answer.get("Attributes", {})
        policy, redrive = attributes.get("Policy"), attributes.get("RedrivePolicy")
        return Queue(url, int(attributes.get("ApproximateNumberOfMessages", 0)),
                     int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                     json.loads(policy) if policy else None, str(attributes.get("SqsManagedSseEnabled", "false")).lower() == "true",
                     attributes.get("KmsMasterKeyId") or None, json.loads(redrive) if redrive else None,
                     int(attributes.get("VisibilityTimeout", 30)))
