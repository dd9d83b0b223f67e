from aws_cdk.assertions import Template

from shipyard.blueprint.firewall import MANAGED_RULE_GROUPS, Firewall

from .helpers import bare_stack, only


def test_cloudfront_scope_managed_rules_and_rate_limit():
    stack = bare_stack(region="us-east-1")
    Firewall(stack, "F", name="webapp-production", rate_limit=1500, log_retention_days=90, retain_logs=True)
    acl = only(Template.from_stack(stack), "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    managed = [r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"] if "ManagedRuleGroupStatement" in r["Statement"]]
    assert managed == list(MANAGED_RULE_GROUPS)
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"} <= set(managed)
    rate = next(r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"])
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 1500
    assert rate["Action"] == {"Block": {}}
    assert all(r["VisibilityConfig"]["CloudWatchMetricsEnabled"] for r in acl["Rules"])
    assert len({r["Priority"] for r in acl["Rules"]}) == len(acl["Rules"])


def test_every_request_is_logged_without_credentials():
    stack = bare_stack(region="us-east-1")
    Firewall(stack, "F", name="webapp-production", rate_limit=1500, log_retention_days=90, retain_logs=True)
    template = Template.from_stack(stack)
    group = only(template, "AWS::Logs::LogGroup")
    assert group["LogGroupName"] == "aws-waf-logs-webapp-production" and group["RetentionInDays"] == 90
    logging = only(template, "AWS::WAFv2::LoggingConfiguration")
    assert logging["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}, {"SingleHeader": {"Name": "cookie"}}]
    assert ":log-group:" in str(logging["LogDestinationConfigs"]) and ":*" not in str(logging["LogDestinationConfigs"])
