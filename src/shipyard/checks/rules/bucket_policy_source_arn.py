from __future__ import annotations

import json

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, statements
from shipyard.checks.live import LiveEnvironment, LiveFinding


class BucketPolicySourceArn(Rule):
    id = "SY-E103"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Bucket policy grants CloudFront without an AWS:SourceArn condition"
    long = ("A statement that allows the cloudfront.amazonaws.com service principal must name the one distribution "
            "with an AWS:SourceArn condition (StringEquals or ArnLike); otherwise any distribution in any account "
            "can read the bucket through its own OAC.")
    rationale = "Origin Access Control is only as narrow as the SourceArn condition that scopes it."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::S3::BucketPolicy"):
            for statement in statements(props.get("PolicyDocument")):
                principal = statement.get("Principal")
                services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
                if statement.get("Effect") != "Allow" or "cloudfront.amazonaws.com" not in services:
                    continue
                scoped = any(key.lower() == "aws:sourcearn"
                             for operator, condition in (statement.get("Condition") or {}).items()
                             if operator in ("StringEquals", "ArnEquals", "ArnLike", "StringLike")
                             for key in condition)
                if not scoped:
                    yield Violation(logical_id, "allows cloudfront.amazonaws.com without an AWS:SourceArn condition")

    verify_title = "bucket policy allows only this distribution"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        expected_arn = f"arn:aws:cloudfront::{live.env.account}:distribution/{live.distribution_id}"
        allows = [s for s in statements(live.bucket_policy) if s.get("Effect") == "Allow"]
        problems = []
        for statement in allows:
            principal = statement.get("Principal")
            source = (statement.get("Condition") or {}).get("StringEquals", {}).get("AWS:SourceArn")
            if principal != {"Service": "cloudfront.amazonaws.com"}:
                problems.append(f"allows {json.dumps(principal)}")
            elif source != expected_arn:
                problems.append(f"SourceArn is {source!r}, not {expected_arn}")
        if not allows:
            problems.append("no statement allows CloudFront to read")
        return LiveFinding(not problems, f"s3://{live.bucket} policy",
                           "; ".join(problems) or f"cloudfront.amazonaws.com with AWS:SourceArn {expected_arn}")


RULE = BucketPolicySourceArn()
