from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, grants_anyone
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.checks.rules.queue_policy import denies_insecure_transport


class TopicFanOut(Rule):
    id = "SY-E704"
    severity = Severity.ERROR
    category = Category.MESSAGING
    short = "SNS topic that fans out to queues without encryption at rest, or admitting requests without TLS"
    long = ("A topic that delivers to SQS queues ([topics.<name>]) is encrypted at rest (KmsMasterKeyId) and its topic "
            "policy denies every request without TLS (aws:SecureTransport false) and allows no principal '*'. Who may "
            "publish is said by the publishers' task roles.")
    rationale = "What a publisher sends through the topic is the app's data, on its way to every worker that subscribes."

    def check(self, view: StackView):
        topics = {logical_id: props for logical_id, props in view.resources("AWS::SNS::Topic")}
        policies = [props for _, props in view.resources("AWS::SNS::TopicPolicy")]
        fanned = {(props.get("TopicArn") or {}).get("Ref") for _, props in view.resources("AWS::SNS::Subscription")
                  if props.get("Protocol") == "sqs" and isinstance(props.get("TopicArn"), dict)}
        for logical_id in sorted(t for t in fanned if t in topics):
            if not topics[logical_id].get("KmsMasterKeyId"):
                yield Violation(logical_id, "delivers to queues but is not encrypted at rest (no KmsMasterKeyId)")
            documents = [p.get("PolicyDocument") for p in policies if {"Ref": logical_id} in (p.get("Topics") or [])]
            if not any(denies_insecure_transport(d) for d in documents):
                yield Violation(logical_id, "no topic policy denies requests without TLS (aws:SecureTransport false)")
            if any(grants_anyone(d) for d in documents):
                yield Violation(logical_id, "its topic policy allows Principal '*'")

    verify_title = "fan-out topics encrypted and TLS-only"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        if not live.fan_out_topics:
            return LiveFinding(True, "no topics", "the app has no [topics.<name>]")
        problems = []
        for name, topic in live.fan_out_topics.items():
            if topic is None:
                problems.append(f"{name} does not exist")
            elif not topic.kms_key:
                problems.append(f"{name} is not encrypted at rest")
            elif not denies_insecure_transport(topic.policy) or grants_anyone(topic.policy):
                problems.append(f"{name}'s policy admits requests without TLS or allows Principal '*'")
        return LiveFinding(not problems, ", ".join(live.fan_out_topics), "; ".join(problems) or "encrypted; TLS only")


RULE = TopicFanOut()
