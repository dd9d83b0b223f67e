"""Monthly budget with notifications, and the budget alarm releases read as their guard (us-east-1).

Billing metrics exist only in us-east-1, so this construct lives in the
environment's global stack; its topic also carries the CloudFront alarms. EstimatedCharges is account-wide: it is this
environment's spend when the environment has its own account.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class Budget(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str, alarm_name: str, monthly_usd: int,
                 emails: tuple[str, ...]) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(self, "BudgetAlerts", display_name=f"{name} alerts (us-east-1)", enforce_ssl=True)
        self.topic.add_to_resource_policy(iam.PolicyStatement(
            principals=[iam.ServicePrincipal("budgets.amazonaws.com")], actions=["sns:Publish"],
            resources=[self.topic.topic_arn]))
        for address in emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        subscriber = [budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self.topic.topic_arn)]
        self.budget = budgets.CfnBudget(
            self, "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=name, budget_type="COST", time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=monthly_usd, unit="USD")),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type=kind, comparison_operator="GREATER_THAN", threshold=threshold,
                        threshold_type="PERCENTAGE"),
                    subscribers=subscriber)
                for kind, threshold in (("ACTUAL", 80), ("FORECASTED", 100))
            ],
        )
        self.alarm = cw.Alarm(
            self, "BudgetAlarm", alarm_name=alarm_name,
            metric=cw.Metric(namespace="AWS/Billing", metric_name="EstimatedCharges", dimensions_map={"Currency": "USD"},
                             statistic="Maximum", period=Duration.hours(6)),
            threshold=monthly_usd, evaluation_periods=1,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Estimated charges reached the monthly budget of {monthly_usd} USD; "
                              "`shipyard release` refuses production releases while this is in ALARM")
        self.alarm.add_alarm_action(actions.SnsAction(self.topic))
