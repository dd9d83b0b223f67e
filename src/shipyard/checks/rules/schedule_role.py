from __future__ import annotations

from typing import Any

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, referenced_id, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding

# What a schedule's role may do: start its own state machine, and hand an invocation it could never start to its own
# dead-letter queue (what SQS's grant_send_messages writes: send, and read the queue's URL and attributes).
STARTS = {"states:StartExecution"}
DEAD_LETTERS = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


class ScheduleRole(Rule):
    id = "SY-E303"
    severity = Severity.ERROR
    category = Category.IDENTITY
    short = "Schedule role that may do more than start its job and dead-letter what it cannot start"
    long = ("An EventBridge Scheduler schedule's role may start its own target (states:StartExecution on the job's state "
            "machine) and send to its own dead-letter queue, nothing else, and trusts scheduler.amazonaws.com for this "
            "account only (aws:SourceAccount).")
    rationale = ("Scheduler assumes the role on a timer, with nobody watching: a broader role turns a schedule into a way "
                 "to run anything in the account, and one trusted without a source account can be used by another "
                 "account's schedules (the confused deputy).")

    def check(self, view: StackView):
        policies = list(view.resources("AWS::IAM::Policy"))
        roles = dict(view.resources("AWS::IAM::Role"))
        for logical_id, props in view.resources("AWS::Scheduler::Schedule"):
            target = props.get("Target") or {}
            role = referenced_id(target.get("RoleArn"))
            allowed = {referenced_id(target.get("Arn")): STARTS,
                       referenced_id((target.get("DeadLetterConfig") or {}).get("Arn")): DEAD_LETTERS}
            held = [s for _, p in policies if role in {referenced_id(r) for r in as_list(p.get("Roles"))}
                    for s in statements(p.get("PolicyDocument"))]
            for problem in _problems(held, lambda resource, allowed=allowed: allowed.get(referenced_id(resource), set())):
                yield Violation(logical_id, f"its role {role}: {problem}")
            if role in roles and not _source_account_only((roles[role] or {}).get("AssumeRolePolicyDocument")):
                yield Violation(logical_id, f"its role {role} trusts scheduler.amazonaws.com without aws:SourceAccount")

    verify_title = "schedules start only their job"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        if not live.jobs:
            return LiveFinding(True, "no schedules", "the app has no scheduled job")
        problems = []
        for name in live.jobs:
            view = live.env.workload_view(name.removeprefix(f"{live.env.names.prefix}-"))
            schedule = live.aws.scheduler(live.region).schedule(view.names.schedule)
            role = live.aws.iam().role(view.names.scheduler_role)
            if schedule is None or role is None:
                problems.append(f"{view.names.schedule} or its role does not exist")
                continue
            dead = f":sqs:{live.region}:{live.aws.account}:{view.names.dead_letter_queue}"
            held = [s for document in role.inline for s in statements(document)]
            held += [s for arn in role.managed for s in statements(live.aws.iam().managed_document(arn))]
            problems += [f"{role.name}: {p}" for p in _problems(
                held, lambda resource, machine=schedule.target_arn, dead=dead: STARTS if resource == machine
                else DEAD_LETTERS if str(resource).endswith(dead) else set())]
            if not _source_account_only(role.trust):
                problems.append(f"{role.name} trusts scheduler.amazonaws.com without aws:SourceAccount")
        return LiveFinding(not problems, ", ".join(live.jobs), "; ".join(problems) or "each starts its state machine only")


def _problems(held: list[dict[str, Any]], allowed_on: Any) -> list[str]:
    """What the statements allow beyond allowed_on(resource): actions allowed on that resource."""
    found = []
    for statement in held:
        if statement.get("Effect") != "Allow":
            continue
        actions, resources = set(as_list(statement.get("Action"))), as_list(statement.get("Resource"))
        for resource in resources:
            extra = actions - allowed_on(resource)
            if extra:
                found.append(f"allows {', '.join(sorted(extra))} on {resource if isinstance(resource, str) else referenced_id(resource)}")
    return found


def _source_account_only(trust: Any) -> bool:
    return all("aws:SourceAccount" in str(s.get("Condition", {})) for s in statements(trust) if s.get("Effect") == "Allow")


RULE = ScheduleRole()
