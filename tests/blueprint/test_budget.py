from aws_cdk.assertions import Template

from shipyard.blueprint.budget import Budget

from .helpers import bare_stack, only


def test_budget_notifications_and_guard_alarm():
    stack = bare_stack(region="us-east-1")
    Budget(stack, "B", name="webapp-production", alarm_name="webapp-production-budget", monthly_usd=200, emails=("a@b.co",))
    template = Template.from_stack(stack)
    budget = only(template, "AWS::Budgets::Budget")
    assert budget["Budget"]["BudgetLimit"] == {"Amount": 200, "Unit": "USD"}
    assert budget["Budget"]["TimeUnit"] == "MONTHLY"
    kinds = {(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in budget["NotificationsWithSubscribers"]}
    assert kinds == {("ACTUAL", 80), ("FORECASTED", 100)}
    alarm = only(template, "AWS::CloudWatch::Alarm")
    assert (alarm["AlarmName"], alarm["MetricName"], alarm["Namespace"], alarm["Threshold"]) == (
        "webapp-production-budget", "EstimatedCharges", "AWS/Billing", 200)
    policy = only(template, "AWS::SNS::TopicPolicy")
    assert "budgets.amazonaws.com" in str(policy["PolicyDocument"])
