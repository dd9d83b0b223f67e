"""A topic that fans out to workers: SNS, encrypted at rest and in transit, delivering each message raw to every
subscriber's queue (SNS developer guide, "Fanout to Amazon SQS queues"; Copilot's publish/subscribe).

It lives in the foundation stack beside the queues it delivers to. Encryption is SSE with the AWS managed key for
SNS (alias/aws/sns): its key policy lets the account's principals use it through SNS, so a publisher needs only
sns:Publish. Each subscription adds a statement to its queue's policy that admits SNS for this topic alone
(aws:SourceArn); enforce_ssl adds the statement that denies every request without TLS.
"""

from __future__ import annotations

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

SNS_MANAGED_KEY = "alias/aws/sns"


class FanOut(Construct):
    def __init__(self, scope: Construct, id: str, *, topic_name: str, queues: list[sqs.IQueue], raw_delivery: bool = True) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, enforce_ssl=True,
                               master_key=kms.Alias.from_alias_name(self, "Key", SNS_MANAGED_KEY))
        for queue in queues:
            # Raw delivery: the worker reads the message as published, not wrapped in SNS's envelope.
            self.topic.add_subscription(subscriptions.SqsSubscription(queue, raw_message_delivery=raw_delivery))
