from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation


class CloudFrontS3OriginOac(Rule):
    id = "SY-E102"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "CloudFront S3 origin without Origin Access Control"
    long = ("Every S3 origin of a distribution must sign its requests with an Origin Access Control (SigV4). "
            "Origin access identities are legacy, and an origin without either needs a public bucket.")
    rationale = "The reference design's fourth bug: a private bucket behind an S3 origin with no access control at all."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::CloudFront::Distribution"):
            for origin in (props.get("DistributionConfig") or {}).get("Origins", []) or []:
                if "S3OriginConfig" not in origin:
                    continue
                if not origin.get("OriginAccessControlId"):
                    identity = (origin.get("S3OriginConfig") or {}).get("OriginAccessIdentity")
                    how = "a legacy origin access identity" if identity else "no access control"
                    yield Violation(logical_id, f"S3 origin {origin.get('Id')} uses {how}, not an Origin Access Control")


RULE = CloudFrontS3OriginOac()
