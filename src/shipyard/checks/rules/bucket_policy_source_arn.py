from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation, as_list, statements


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


RULE = BucketPolicySourceArn()
