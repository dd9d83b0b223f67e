from aws_cdk.assertions import Template

from shipyard.blueprint.observability import Observability

from .helpers import bare_stack


def _template(**overrides) -> dict:
    stack = bare_stack()
    props = dict(prefix="webapp-production", load_balancer="app/webapp-production/abc", target_groups=("targetgroup/blue/def", "targetgroup/green/abc"),
                 cluster_name="webapp-production", service_name="web", running_target=4, slo_target=99.9,
                 latency_p95_ms=800, emails=("oncall@example.com",), web_acl_name="webapp-production")
    props.update(overrides)
    Observability(stack, "O", **props)
    return Template.from_stack(stack).to_json()["Resources"]


def _alarms(resources: dict) -> dict:
    return {r["Properties"]["AlarmName"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _expression(alarm: dict) -> str:
    return next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)


def _periods(alarm: dict) -> set[int]:
    return {m["MetricStat"]["Period"] for m in alarm["Metrics"] if "MetricStat" in m}


def test_the_one_minute_5xx_rate_is_the_only_static_5xx_alarm_and_does_not_page():
    alarms = _alarms(_template())
    alarm = alarms["webapp-production-deployment-5xx-rate"]
    assert _expression(alarm) == "100 * IF(requests > 0, (target5xx + elb5xx) / requests, 0)"
    assert alarm["Threshold"] == 2 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert _periods(alarm) == {60} and not alarm.get("AlarmActions")
    names = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert names == {"HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count", "RequestCount"}
    assert "webapp-production-5xx-rate" not in alarms  # the burn-rate alert pages instead


def test_burn_rate_windows_and_thresholds():
    alarms = _alarms(_template(slo_target=99.9))
    expected = {"slo-fast-burn-60m": (3600, 14.4), "slo-fast-burn-5m": (300, 14.4),
                "slo-slow-burn-360m": (21600, 6.0), "slo-slow-burn-30m": (1800, 6.0)}
    for suffix, (period, factor) in expected.items():
        alarm = alarms[f"webapp-production-{suffix}"]
        assert _expression(alarm) == "IF(requests > 0, (target5xx + elb5xx) / requests, 0)"
        assert _periods(alarm) == {period}
        assert abs(alarm["Threshold"] - factor * 0.001) < 1e-9


def test_one_composite_pages_when_either_pair_burns_in_both_its_windows():
    resources = _template()
    composites = {r["Properties"]["AlarmName"]: r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::CompositeAlarm"}
    assert set(composites) == {"webapp-production-slo-burn"}
    rule = str(composites["webapp-production-slo-burn"]["AlarmRule"])
    assert rule.count("ALARM(") == 4 and rule.count(" AND ") == 2 and " OR " in rule
    assert composites["webapp-production-slo-burn"]["AlarmActions"]


def test_a_sleeping_environment_has_no_running_below_desired_alarm():
    assert "webapp-production-running-below-desired" not in _alarms(_template(sleeps=True))


def test_latency_unhealthy_and_running_alarms():
    alarms = _alarms(_template())
    latency = alarms["webapp-production-latency-p95"]
    assert latency["ExtendedStatistic"] == "p95" and latency["Threshold"] == 0.8 and latency["EvaluationPeriods"] == 2
    # Blue/green tasks alternate between two target groups: both alarms judge the pair.
    for name, metric, combine in (("unhealthy-targets", "UnHealthyHostCount", "MAX"), ("running-below-desired", "HealthyHostCount", "SUM")):
        props = alarms[f"webapp-production-{name}"]
        expression = next(m["Expression"] for m in props["Metrics"] if "Expression" in m)
        assert expression.startswith(f"{combine}([FILL(")
        groups = {m["MetricStat"]["Metric"]["Dimensions"][1]["Value"] for m in props["Metrics"] if "MetricStat" in m}
        assert groups == {"targetgroup/blue/def", "targetgroup/green/abc"}
        assert {m["MetricStat"]["Metric"]["MetricName"] for m in props["Metrics"] if "MetricStat" in m} == {metric}
    assert alarms["webapp-production-unhealthy-targets"]["Threshold"] == 0
    running = alarms["webapp-production-running-below-desired"]
    assert running["ComparisonOperator"] == "LessThanThreshold" and running["Threshold"] == 4


def test_alerts_topic_and_dashboard():
    resources = _template()
    subscriptions = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions == [{"Endpoint": "oncall@example.com", "Protocol": "email", "TopicArn": subscriptions[0]["TopicArn"]}]
    dashboard = next(r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard")
    body = str(dashboard["DashboardBody"])
    for needle in ("RequestCount", "TargetResponseTime", "HealthyHostCount", "CPUUtilization", "MemoryUtilization",
                   "BlockedRequests", "EstimatedCharges", "5xxErrorRate", "us-east-1"):
        assert needle in body, needle
    without_waf = str(next(r["Properties"] for r in _template(web_acl_name=None).values()
                           if r["Type"] == "AWS::CloudWatch::Dashboard")["DashboardBody"])
    assert "BlockedRequests" not in without_waf
