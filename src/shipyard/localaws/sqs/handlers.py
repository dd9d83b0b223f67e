"""AWS::SQS::QueuePolicy into moto's SQS backend (moto's CloudFormation skips it), so GetQueueAttributes returns the
policy a template set, as SQS does."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sqs.models import sqs_backends

from shipyard.localaws.core.base import Handler, properties


class SqsQueuePolicy(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    def __init__(self, queues: list[str]) -> None:
        self.physical_id = ",".join(queues)
        self.queues = queues
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        backend = sqs_backends[account_id][region_name]
        for url in p["Queues"]:
            backend.set_queue_attributes(_name(url), {"Policy": json.dumps(p["PolicyDocument"])})
        return cls(list(p["Queues"]))

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in self.queues:
            with contextlib.suppress(Exception):  # the queue went first: its policy went with it
                backend.set_queue_attributes(_name(url), {"Policy": ""})


def _name(url: str) -> str:
    """A queue's name from its URL (the Ref of AWS::SQS::Queue)."""
    return url.rstrip("/").rsplit("/", 1)[-1]
