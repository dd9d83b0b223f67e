"""WAFv2 web ACL for CloudFront: AWS managed rule groups plus a per-IP rate limit.

CLOUDFRONT-scoped web ACLs exist only in us-east-1, so this construct lives in
the environment's global stack whatever the app region is. Every request the
web ACL blocks, counts or challenges is logged to a CloudWatch Logs group in
us-east-1 (WAF requires the aws-waf-logs- prefix), with the Authorization and
Cookie headers redacted, so the log never holds a viewer's credentials.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True,
    )


class Firewall(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str, rate_limit: int, log_retention_days: int, retain_logs: bool) -> None:
        super().__init__(scope, id)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=group,
                    )
                ),
                visibility_config=_visibility(group),
            )
            for priority, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=len(rules),
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=rate_limit, aggregate_key_type="IP", evaluation_window_sec=300,
                )
            ),
            visibility_config=_visibility("RateLimitPerIp"),
        ))
        self.web_acl = wafv2.CfnWebACL(
            self, "WebAcl",
            name=name,
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(name),
            rules=rules,
        )
        stack = Stack.of(self)
        self.log_group = logs.LogGroup(
            self, "Logs", log_group_name=f"aws-waf-logs-{name}",
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        self.log_group.node.default_child.retention_in_days = log_retention_days
        self.logging = wafv2.CfnLoggingConfiguration(
            self, "Logging",
            resource_arn=self.web_acl.attr_arn,
            # WAF takes the group's ARN without the ":*" that its Arn attribute ends with.
            log_destination_configs=[f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{self.log_group.log_group_name}"],
            redacted_fields=[wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                             for header in ("authorization", "cookie")],
            # What WAF stopped or flagged is kept; allowed requests are in the load balancer's and the bucket's
            # access logs already, and logging them all would cost more than the web ACL itself.
            logging_filter={"DefaultBehavior": "DROP", "Filters": [{
                "Behavior": "KEEP", "Requirement": "MEETS_ANY",
                "Conditions": [{"ActionCondition": {"Action": action}} for action in ("BLOCK", "COUNT", "CAPTCHA", "CHALLENGE")],
            }]},
        )
