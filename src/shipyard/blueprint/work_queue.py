"""A worker's queue: SQS, encrypted at rest and in transit, with a dead-letter queue after a bounded number of
deliveries (SQS developer guide, "Using dead-letter queues in Amazon SQS").

The queues live in the foundation stack, beside the repositories: they hold data (messages not yet worked on), so
replacing or deleting the service stack never loses them. The worker's tasks receive and delete; a publisher's task
role may only send (ServiceStack grants both). The dead-letter queue keeps a message 14 days, SQS's longest, so a
failure is there to be read and redriven; its alarm is in the service stack, beside the worker's other alarms.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_sqs as sqs
from constructs import Construct

DEAD_LETTER_RETENTION = Duration.days(14)


class WorkQueue(Construct):
    def __init__(self, scope: Construct, id: str, *, queue_name: str, dead_letter_queue_name: str, max_receive_count: int,
                 visibility_timeout_seconds: int, retain: bool) -> None:
        super().__init__(scope, id)
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        # SSE-SQS: encrypted at rest with keys SQS owns (no KMS key to pay for or to grant); enforce_ssl adds the
        # queue policy statement that denies every request without TLS.
        self.dead_letter_queue = sqs.Queue(self, "DeadLetters", queue_name=dead_letter_queue_name,
                                           encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                                           retention_period=DEAD_LETTER_RETENTION, removal_policy=removal)
        self.queue = sqs.Queue(self, "Queue", queue_name=queue_name, encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                               visibility_timeout=Duration.seconds(visibility_timeout_seconds),
                               dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=max_receive_count),
                               removal_policy=removal)
