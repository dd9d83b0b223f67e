"""SY-E303: a schedule's role starts its own state machine and dead-letters to its own queue, nothing else; it trusts
Scheduler for this account only. Also a SY-E703 case: the schedule's dead-letter queue needs no dead-letter queue."""

import copy

from shipyard.checks.rules.queue_dead_letters import RULE as DEAD_LETTERS
from shipyard.checks.rules.schedule_role import RULE as SCHEDULE_ROLE

from .helpers import violations

TRUST = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": "111111111111"}}}]}


def _job() -> dict:
    return {
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineName": "app-env-nightly"}},
        "Failed": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "app-env-nightly-dlq"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": copy.deepcopy(TRUST)}},
        "RolePolicy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "states:StartExecution", "Resource": {"Ref": "Machine"}},
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
             "Resource": {"Fn::GetAtt": ["Failed", "Arn"]}}]}}},
        "Schedule": {"Type": "AWS::Scheduler::Schedule", "Properties": {"ScheduleExpression": "rate(1 day)", "Target": {
            "Arn": {"Ref": "Machine"}, "RoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["Failed", "Arn"]}}}}},
    }


def test_a_role_that_starts_its_machine_and_dead_letters_to_its_queue_passes():
    assert violations(SCHEDULE_ROLE, _job()) == []
    assert violations(DEAD_LETTERS, _job()) == []  # the schedule's dead-letter queue is one itself


def test_a_role_that_may_do_more_fails_naming_what():
    widened = _job()
    widened["RolePolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": ["ecs:RunTask", "states:StartExecution"], "Resource": "*"})
    [problem] = violations(SCHEDULE_ROLE, widened)
    assert problem.resource == "Schedule" and "allows ecs:RunTask, states:StartExecution on *" in problem.message
    other = _job()
    other["RolePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Action"] = ["states:StartExecution", "states:StopExecution"]
    assert ["allows states:StopExecution on Machine" in v.message for v in violations(SCHEDULE_ROLE, other)] == [True]


def test_a_role_trusted_without_its_source_account_fails():
    open_trust = _job()
    del open_trust["Role"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    [problem] = violations(SCHEDULE_ROLE, open_trust)
    assert "trusts scheduler.amazonaws.com without aws:SourceAccount" in problem.message
