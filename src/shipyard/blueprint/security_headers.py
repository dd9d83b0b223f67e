"""The response headers every answer of the distribution carries: HSTS, no MIME sniffing, no framing, a referrer
policy and the site's content security policy."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from constructs import Construct

HSTS_MAX_AGE = Duration.days(365)


class SecurityHeaders(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str, content_security_policy: str, hsts_preload: bool) -> None:
        super().__init__(scope, id)
        self.policy = cloudfront.ResponseHeadersPolicy(
            self, "Policy", response_headers_policy_name=f"{name}-security-headers",
            comment=f"{name}: HSTS, nosniff, no framing, referrer policy, content security policy",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=HSTS_MAX_AGE, include_subdomains=True, preload=hsts_preload, override=True),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(frame_option=cloudfront.HeadersFrameOption.DENY, override=True),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override=True),
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy, override=True),
            ),
        )
