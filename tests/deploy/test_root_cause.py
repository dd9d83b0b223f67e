"""Root cause from recorded, realistic CloudFormation event sequences (newest first, as AWS returns them)."""

from __future__ import annotations

from shipyard.aws.cloudformation import StackEvent
from shipyard.deploy.root_cause import latest_operation, root_cause


def ev(logical, status, reason=None, type_="AWS::EC2::SecurityGroup", physical=""):
    return StackEvent(f"{logical}-{status}", logical, type_, status, reason or "", physical)


STACK = "webapp-staging-service"


def stack_ev(status, reason=None):
    return ev(STACK, status, reason, "AWS::CloudFormation::Stack", f"arn:aws:cloudformation:eu-west-1:1:stack/{STACK}/x")


def test_create_failure_behind_a_cascade_of_cancellations():
    chronological = [
        stack_ev("CREATE_IN_PROGRESS", "User Initiated"),
        ev("Cluster", "CREATE_IN_PROGRESS", type_="AWS::ECS::Cluster"),
        ev("TaskRole", "CREATE_IN_PROGRESS", type_="AWS::IAM::Role"),
        ev("Logs", "CREATE_IN_PROGRESS", type_="AWS::Logs::LogGroup"),
        ev("Logs", "CREATE_FAILED", "Resource handler returned message: \"Resource of type 'AWS::Logs::LogGroup' with identifier "
           "'/shipyard/webapp/staging/service' already exists.\" (RequestToken: 1, HandlerErrorCode: AlreadyExists)",
           type_="AWS::Logs::LogGroup"),
        ev("Cluster", "CREATE_FAILED", "Resource creation cancelled", type_="AWS::ECS::Cluster"),
        ev("TaskRole", "CREATE_FAILED", "Resource creation cancelled", type_="AWS::IAM::Role"),
        stack_ev("ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create: [Cluster, TaskRole, Logs]. "),
        ev("TaskRole", "DELETE_COMPLETE", type_="AWS::IAM::Role"),
        stack_ev("ROLLBACK_COMPLETE"),
    ]
    cause = root_cause(STACK, list(reversed(chronological)))
    assert cause is not None
    assert (cause.logical_id, cause.resource_type, cause.status) == ("Logs", "AWS::Logs::LogGroup", "CREATE_FAILED")
    assert "already exists" in cause.reason
    assert "outside the stack" in cause.hint


def test_update_failure_ignores_the_previous_operation():
    chronological = [
        stack_ev("CREATE_IN_PROGRESS", "User Initiated"),
        ev("Old", "CREATE_FAILED", "an old failure", type_="AWS::ECS::Service"),
        stack_ev("ROLLBACK_COMPLETE"),
        stack_ev("UPDATE_IN_PROGRESS", "User Initiated"),
        ev("Service", "UPDATE_IN_PROGRESS", type_="AWS::ECS::Service"),
        ev("Scaling", "UPDATE_IN_PROGRESS", type_="AWS::ApplicationAutoScaling::ScalableTarget"),
        ev("Service", "UPDATE_FAILED", "Resource handler returned message: \"Error occurred during operation "
           "'ECS Deployment Circuit Breaker was triggered'.\" (HandlerErrorCode: GeneralServiceException)",
           type_="AWS::ECS::Service"),
        ev("Scaling", "UPDATE_FAILED", "Resource update cancelled", type_="AWS::ApplicationAutoScaling::ScalableTarget"),
        stack_ev("UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [Service, Scaling]."),
        ev("Service", "UPDATE_COMPLETE", type_="AWS::ECS::Service"),
        stack_ev("UPDATE_ROLLBACK_COMPLETE"),
    ]
    events = list(reversed(chronological))
    assert latest_operation(events, STACK)[0].status == "UPDATE_IN_PROGRESS"
    cause = root_cause(STACK, events)
    assert cause.logical_id == "Service" and cause.status == "UPDATE_FAILED"
    assert "Circuit Breaker" in cause.reason
    assert "shipyard explain" in cause.hint


def test_nested_stack_failure_names_the_inner_resource():
    nested_arn = "arn:aws:cloudformation:eu-west-1:1:stack/webapp-staging-service-NestedA-1/abc"
    outer = list(reversed([
        stack_ev("UPDATE_IN_PROGRESS", "User Initiated"),
        ev("NestedA", "UPDATE_IN_PROGRESS", type_="AWS::CloudFormation::Stack", physical=nested_arn),
        ev("NestedA", "UPDATE_FAILED", "Embedded stack arn:... was not successfully updated. Currently in "
           "UPDATE_ROLLBACK_IN_PROGRESS with reason: The following resource(s) failed to update: [Queue].",
           type_="AWS::CloudFormation::Stack", physical=nested_arn),
        ev("Other", "UPDATE_FAILED", "Resource update cancelled", type_="AWS::SNS::Topic"),
        stack_ev("UPDATE_ROLLBACK_COMPLETE"),
    ]))
    inner_name = "webapp-staging-service-NestedA-1"
    inner = list(reversed([
        ev(inner_name, "UPDATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack"),
        ev("Queue", "UPDATE_FAILED", "User: arn:aws:sts::1:assumed-role/deploy is not authorized to perform: sqs:SetQueueAttributes",
           type_="AWS::SQS::Queue"),
        ev(inner_name, "UPDATE_ROLLBACK_COMPLETE", None, "AWS::CloudFormation::Stack"),
    ]))
    asked = []

    def nested(arn):
        asked.append(arn)
        return inner

    cause = root_cause(STACK, outer, nested)
    assert asked == [nested_arn]
    assert (cause.stack, cause.logical_id, cause.resource_type) == (inner_name, "Queue", "AWS::SQS::Queue")
    assert "permission" in cause.hint


def test_only_cancellations_still_reports_the_first():
    events = list(reversed([stack_ev("UPDATE_IN_PROGRESS", "User Initiated"),
                            ev("A", "UPDATE_FAILED", "Resource update cancelled"),
                            stack_ev("UPDATE_ROLLBACK_COMPLETE")]))
    assert root_cause(STACK, events).logical_id == "A"


def test_stack_level_failure_without_resource_events():
    events = list(reversed([stack_ev("UPDATE_IN_PROGRESS", "User Initiated"),
                            stack_ev("UPDATE_ROLLBACK_IN_PROGRESS", "Parameter validation failed: parameter value x for WebAclArn")]))
    cause = root_cause(STACK, events)
    assert cause.logical_id == STACK and "Parameter validation failed" in cause.reason


def test_success_has_no_root_cause():
    events = list(reversed([stack_ev("UPDATE_IN_PROGRESS", "User Initiated"), ev("A", "UPDATE_COMPLETE"),
                            stack_ev("UPDATE_COMPLETE")]))
    assert root_cause(STACK, events) is None
