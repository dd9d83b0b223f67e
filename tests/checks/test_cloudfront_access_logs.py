from shipyard.checks.rules.cloudfront_access_logs import RULE

from .helpers import violations

EDGE_ALARM = {"A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "AWS/CloudFront"}}}
SOURCE = {"S": {"Type": "AWS::Logs::DeliverySource", "Properties": {"Name": "app-prod-cloudfront", "LogType": "ACCESS_LOGS"}}}
DELIVERY = {"D": {"Type": "AWS::Logs::Delivery", "Properties": {"DeliverySourceName": "app-prod-cloudfront"}}}


def test_production_edge_with_a_delivered_source_passes():
    assert violations(RULE, {**EDGE_ALARM, **SOURCE, **DELIVERY}, production=True) == []


def test_production_edge_without_access_logs_fails():
    assert "no CloudFront access logs" in violations(RULE, EDGE_ALARM, production=True)[0].message


def test_a_source_without_a_delivery_fails_anywhere():
    assert "has no delivery" in violations(RULE, {**EDGE_ALARM, **SOURCE})[0].message


def test_staging_may_go_without():
    assert violations(RULE, EDGE_ALARM) == []


def test_a_delivery_may_name_its_source_by_ref():
    by_ref = {"D": {"Type": "AWS::Logs::Delivery", "Properties": {"DeliverySourceName": {"Ref": "S"}}}}
    assert violations(RULE, {**EDGE_ALARM, **SOURCE, **by_ref}, production=True) == []
