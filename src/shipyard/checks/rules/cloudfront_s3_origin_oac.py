from __future__ import annotations

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding


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

    verify_title = "S3 origin uses origin access control"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        s3_origins = [o for o in live.distribution.origins if o.s3]
        resource = f"distribution {live.distribution_id}"
        if not s3_origins:
            return LiveFinding(False, resource, "no S3 origin")
        missing = [o.id for o in s3_origins if not o.access_control]
        if missing:
            return LiveFinding(False, resource, f"S3 origin without origin access control: {', '.join(missing)}")
        gone = [o.access_control for o in s3_origins if not live.aws.cloudfront().origin_access_control_exists(o.access_control)]
        if gone:
            return LiveFinding(False, resource, f"origin access control {', '.join(gone)} not found")
        return LiveFinding(True, resource, f"{len(s3_origins)} S3 origin(s) signed by origin access control")


RULE = CloudFrontS3OriginOac()
