from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, referenced_id
from shipyard.checks.live import LiveEnvironment, LiveFinding


class QueueDeadLetters(Rule):
    id = "SY-E703"
    severity = Severity.ERROR
    category = Category.MESSAGING
    short = "Worker queue without a dead-letter queue"
    long = ("Every queue a worker consumes has a RedrivePolicy: after maxReceiveCount deliveries a message moves to "
            "its dead-letter queue, whose depth is alarmed and judged by the release. A queue that is a dead-letter queue "
            "(a redrive target, or a schedule's DeadLetterConfig) needs none.")
    rationale = "Without one, a message the worker always fails is delivered forever, and no release or alarm sees it."

    def check(self, view: StackView):
        queues = dict(view.resources("AWS::SQS::Queue"))
        targets = {referenced_id((props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")) for props in queues.values()}
        # A scheduled job's queue of invocations its schedule could never start is a dead-letter queue itself.
        targets |= {referenced_id(((props.get("Target") or {}).get("DeadLetterConfig") or {}).get("Arn"))
                    for _, props in view.resources("AWS::Scheduler::Schedule")}
        for logical_id, props in queues.items():
            if logical_id not in targets and not props.get("RedrivePolicy"):
                yield Violation(logical_id, "no RedrivePolicy: a message that always fails is never set aside")

    verify_title = "worker queues dead-letter what fails"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        targets = {str(q.redrive.get("deadLetterTargetArn", "")).rsplit(":", 1)[-1] for q in live.queues.values() if q and q.redrive}
        queues = {name: q for name, q in live.queues.items() if name not in targets}
        if not queues:
            return LiveFinding(True, "no queues", "the app has no worker")
        problems = [f"{name} does not exist" if queue is None else f"{name} has no redrive policy"
                    for name, queue in queues.items() if queue is None or not queue.redrive]
        return LiveFinding(not problems, ", ".join(queues), "; ".join(problems) or "a dead-letter queue behind each")


RULE = QueueDeadLetters()
