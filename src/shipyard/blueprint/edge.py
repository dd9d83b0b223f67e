"""Private S3 site bucket and the CloudFront distribution in front of site and API.

The bucket is reachable only through CloudFront's Origin Access Control: all
public access blocked, no ACLs, and a bucket policy that lets
cloudfront.amazonaws.com read objects only on behalf of this distribution
(AWS:SourceArn). /api/* and the health path go to the internal load balancer
through a CloudFront VPC origin.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from shipyard.blueprint.access_logs import SITE_PREFIX as SITE_ACCESS_LOG_PREFIX
from shipyard.blueprint.load_balancer import LISTENER_PORT
from shipyard.blueprint.private_bucket import private_bucket
from shipyard.blueprint.suppressions import (
    CLOUDFRONT_DEFAULT_CERTIFICATE,
    CLOUDFRONT_LEGACY_LOGGING,
    CLOUDFRONT_NO_GEO_RESTRICTION,
    suppress,
)

PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}

# Paths without a file extension are app routes of a single-page app.
_SPA_REWRITE = """function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) { request.uri = '/index.html'; }
  return request;
}"""


class Edge(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        bucket_name: str,
        load_balancer: elbv2.IApplicationLoadBalancer,
        health_check_path: str,
        price_class: str,
        spa_fallback: bool,
        web_acl_arn: str | None,
        retain: bool,
        access_logs_bucket: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = private_bucket(
            self, "SiteBucket", bucket_name=bucket_name, retain=retain, versioned=True,
            lifecycle_rules=[s3.LifecycleRule(
                id="expire-replaced-site-files",
                noncurrent_version_expiration=Duration.days(30),
                abort_incomplete_multipart_upload_after=Duration.days(1),
            )],
        )
        if access_logs_bucket:
            # By name, not by construct: the log bucket's policy (foundation stack)
            # already admits this bucket's log delivery, so no cross-stack grant is needed.
            self.bucket.node.default_child.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
                destination_bucket_name=access_logs_bucket, log_file_prefix=SITE_ACCESS_LOG_PREFIX)

        api = origins.VpcOrigin.with_application_load_balancer(
            load_balancer,
            http_port=LISTENER_PORT,
            # Traffic from CloudFront to a VPC origin stays on AWS's network;
            # HTTPS to the load balancer would need a certificate for a domain.
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY,
            read_timeout=Duration.seconds(30),
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=api,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
            compress=True,
        )
        function_associations = None
        if spa_fallback:
            rewrite = cloudfront.Function(
                self, "SpaRewrite", code=cloudfront.FunctionCode.from_inline(_SPA_REWRITE),
                runtime=cloudfront.FunctionRuntime.JS_2_0,
                comment="Serve index.html for single-page-app routes",
            )
            function_associations = [cloudfront.FunctionAssociation(
                function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]
        site_cache = cloudfront.CachePolicy(
            self, "SiteCache",
            comment="Static site: one day by default; fingerprinted assets carry their own max-age",
            default_ttl=Duration.days(1), min_ttl=Duration.seconds(0), max_ttl=Duration.days(365),
            enable_accept_encoding_gzip=True, enable_accept_encoding_brotli=True,
        )
        self.distribution = cloudfront.Distribution(
            self, "Distribution",
            comment=f"{bucket_name}: site and API",
            default_root_object="index.html",
            price_class=PRICE_CLASSES[price_class],
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            web_acl_id=web_acl_arn,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ],
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=site_cache,
                response_headers_policy=cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
                compress=True,
                function_associations=function_associations,
            ),
            additional_behaviors={"/api/*": api_behavior, health_check_path: api_behavior},
        )
        suppress(self.distribution, CLOUDFRONT_NO_GEO_RESTRICTION, CLOUDFRONT_LEGACY_LOGGING, CLOUDFRONT_DEFAULT_CERTIFICATE)
