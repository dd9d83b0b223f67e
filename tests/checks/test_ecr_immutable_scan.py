from shipyard.checks.rules.ecr_immutable_scan import RULE

from .helpers import violations


def test_immutable_scanned_passes():
    assert violations(RULE, {"E": {"Type": "AWS::ECR::Repository", "Properties": {
        "ImageTagMutability": "IMMUTABLE", "ImageScanningConfiguration": {"ScanOnPush": True}}}}) == []


def test_mutable_unscanned_fails():
    assert len(violations(RULE, {"E": {"Type": "AWS::ECR::Repository", "Properties": {}}})) == 2
