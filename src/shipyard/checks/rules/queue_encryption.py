from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


class QueueEncryption(Rule):
    id = "SY-E701"
    severity = Severity.ERROR
    category = Category.MESSAGING
    short = "SQS queue not encrypted at rest"
    long = ("Every queue is encrypted at rest: SQS-managed keys (SqsManagedSseEnabled) or a KMS key (KmsMasterKeyId). "
            "A queue created with SqsManagedSseEnabled false has neither.")
    rationale = "Messages carry the app's data (order ids, addresses, payloads) and sit in the queue until worked on."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::SQS::Queue"):
            if str(props.get("SqsManagedSseEnabled", "")).lower() != "true" and not props.get("KmsMasterKeyId"):
                yield Violation(logical_id, "neither SqsManagedSseEnabled nor KmsMasterKeyId: its messages are stored unencrypted")

    verify_title = "worker queues encrypted at rest"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        if not live.queues:
            return LiveFinding(True, "no queues", "the app has no worker")
        problems = [f"{name} does not exist" if queue is None else f"{name} is not encrypted (no SSE-SQS, no KMS key)"
                    for name, queue in live.queues.items() if queue is None or not queue.encrypted]
        return LiveFinding(not problems, ", ".join(live.queues), "; ".join(problems) or "SSE on every queue")


RULE = QueueEncryption()
