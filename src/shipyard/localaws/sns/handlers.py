"""AWS::SNS::Subscription (raw delivery included) and ::TopicPolicy into moto's SNS backend (moto's CloudFormation
skips both)."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends

from shipyard.localaws.core.base import Handler, patch, properties, tags_list


class SnsSubscription(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    def __init__(self, arn: str) -> None:
        self.physical_id = arn
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        backend = sns_backends[account_id][region_name]
        subscription = backend.subscribe(p["TopicArn"], p["Endpoint"], p["Protocol"])
        # moto reads the attribute as truthy: it is set only where it is true, as the string SNS's API takes.
        if str(p.get("RawMessageDelivery", "false")).lower() == "true":
            backend.set_subscription_attributes(subscription.arn, "RawMessageDelivery", "true")
        return cls(subscription.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][region_name].unsubscribe(self.physical_id)


class SnsTopicPolicy(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    def __init__(self, topics: list[str]) -> None:
        self.physical_id = ",".join(topics)
        self.topics = topics
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        backend = sns_backends[account_id][region_name]
        for topic in p["Topics"]:
            backend.set_topic_attribute(topic, "policy", json.dumps(p["PolicyDocument"]))
        return cls(list(p["Topics"]))

    def delete(self, account_id: str, region_name: str) -> None:
        return None  # the policy goes with its topic


def _topic_with_tags(original: Any) -> Any:
    def create(cls: Any, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
               **kwargs: Any) -> Any:
        from moto.sns.models import sns_backends

        topic = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        tags = {t["Key"]: t["Value"] for t in tags_list(properties(cloudformation_json))}
        if tags:
            sns_backends[account_id][region_name].tag_resource(topic.arn, tags)
        return topic

    return classmethod(create)


def install() -> None:
    from moto.sns.models import Topic

    patch(Topic, "create_from_cloudformation_json", _topic_with_tags(Topic.create_from_cloudformation_json),
          corrects="a topic made by CloudFormation drops the template's Tags")
