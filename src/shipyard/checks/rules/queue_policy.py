from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, grants_anyone, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding


def denies_insecure_transport(document) -> bool:
    """A Deny of every request with aws:SecureTransport false (what enforce_ssl writes)."""
    return any(s.get("Effect") == "Deny" and (s.get("Condition") or {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)
               for s in statements(document))


class QueuePolicy(Rule):
    id = "SY-E702"
    severity = Severity.ERROR
    category = Category.MESSAGING
    short = "SQS queue policy that allows any principal, or admits requests without TLS"
    long = ("A queue's policy may not Allow Principal '*', and denies every request without TLS (aws:SecureTransport "
            "false). Who may send or receive is said by the workloads' task roles, each on its own queue.")
    rationale = "A public queue lets anyone inject work into the worker or read the app's messages."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::SQS::QueuePolicy"):
            document = props.get("PolicyDocument")
            if grants_anyone(document):
                yield Violation(logical_id, "the queue policy allows Principal '*'")
            if not denies_insecure_transport(document):
                yield Violation(logical_id, "the queue policy does not deny requests without TLS (aws:SecureTransport false)")

    verify_title = "worker queues private and TLS-only"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        if not live.queues:
            return LiveFinding(True, "no queues", "the app has no worker")
        problems = []
        for name, queue in live.queues.items():
            if queue is None:
                problems.append(f"{name} does not exist")
            elif grants_anyone(queue.policy):
                problems.append(f"{name}'s policy allows Principal '*'")
            elif not denies_insecure_transport(queue.policy):
                problems.append(f"{name}'s policy does not deny requests without TLS")
        return LiveFinding(not problems, ", ".join(live.queues), "; ".join(problems) or "no public grant; TLS only")


RULE = QueuePolicy()
