"""Private S3 site bucket and the CloudFront distribution in front of site and API.

The bucket is reachable only through CloudFront's Origin Access Control: all
public access blocked, no ACLs, and a bucket policy that lets
cloudfront.amazonaws.com read objects only on behalf of this distribution
(AWS:SourceArn). /api/* and the health path go to the internal load balancer
through a CloudFront VPC origin: over HTTPS (TLS 1.2) to origin.<domain> where the
environment has a domain, over HTTP inside the VPC where it has none. With a domain, the distribution answers to it
(and www.<domain>, redirected) with the us-east-1 certificate, SNI, TLSv1.2_2021
at least, and alias A/AAAA records in the zone point to it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from aws_cdk import aws_s3 as s3
from constructs import Construct

from shipyard.blueprint.access_logs import SITE_PREFIX as SITE_ACCESS_LOG_PREFIX
from shipyard.blueprint.load_balancer import HTTP_PORT, HTTPS_PORT
from shipyard.blueprint.private_bucket import private_bucket
from shipyard.blueprint.suppressions import (
    CLOUDFRONT_DEFAULT_CERTIFICATE,
    CLOUDFRONT_LEGACY_LOGGING,
    CLOUDFRONT_NO_GEO_RESTRICTION,
    suppress,
)
from shipyard.config.workloads import PRIMARY_ROUTES
from shipyard.naming import PREVIEW_HEADER, PREVIEW_PATH

PRICE_CLASSES = {
    "PriceClass_100": cloudfront.PriceClass.PRICE_CLASS_100,
    "PriceClass_200": cloudfront.PriceClass.PRICE_CLASS_200,
    "PriceClass_All": cloudfront.PriceClass.PRICE_CLASS_ALL,
}

def _preview_host(preview_domain: str) -> list[str]:
    """JavaScript that takes a request for <name>.<preview domain> to the preview's own paths (/pv/<name>/...), which
    is what its site files and its listener rules are under (a path already under them stays, so links an app makes
    with its prefix work on its host too); a host that names no possible preview gets a 404. Other hosts (the base's
    own) go on untouched."""
    suffix = f".{preview_domain}"
    return ["  var viewer = ((request.headers.host && request.headers.host.value) || '').toLowerCase();",
            f"  if (viewer.length > {len(suffix)} && viewer.slice(-{len(suffix)}) === '{suffix}') {{",
            f"    var preview = viewer.slice(0, -{len(suffix)});",
            "    if (!/^[a-z][a-z0-9-]{0,11}$/.test(preview)) {",
            "      return { statusCode: 404, statusDescription: 'Not Found' };",
            "    }",
            f"    var own = '{PREVIEW_PATH}/' + preview;",
            "    if (request.uri !== own && request.uri.indexOf(own + '/') !== 0) { request.uri = own + request.uri; }",
            f"    request.headers['{PREVIEW_HEADER}'] = {{ value: preview }};",
            "  }"]


def _viewer_request(*, spa: bool, apex: str | None, previews: bool = False, preview_domain: str | None = None) -> str:
    """One viewer-request function (CloudFront allows one per event): www -> apex redirect, a preview's site files
    under its prefix (its index for the prefix itself, a redirect to add the slash relative URLs need), or on its
    host (preview_domain), single-page-app routes."""
    lines = ["function handler(event) {", "  var request = event.request;"]
    if previews and preview_domain:
        lines += _preview_host(preview_domain)
    if previews:
        lines += [f"  if (request.uri.indexOf('{PREVIEW_PATH}/') === 0) {{",
                  "    var parts = request.uri.split('/');",
                  "    if (parts.length === 3) {",
                  "      return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: request.uri + '/' } } };",
                  "    }",
                  f"    var home = '{PREVIEW_PATH}/' + parts[2] + '/index.html';",
                  "    if (parts[3] === '' && parts.length === 4) { request.uri = home; }",
                  *(["    else if (parts[parts.length - 1].indexOf('.') === -1) { request.uri = home; }"] if spa else []),
                  "    return request;",
                  "  }"]
    if apex:
        lines += ["  var host = request.headers.host && request.headers.host.value;",
                  f"  if (host === 'www.{apex}') {{",
                  f"    return {{ statusCode: 301, statusDescription: 'Moved Permanently', headers: {{ location: {{ value: 'https://{apex}' + request.uri }} }} }};",
                  "  }"]
    if spa:  # paths without a file extension are app routes
        lines += ["  var last = request.uri.split('/').pop();", "  if (last.indexOf('.') === -1) { request.uri = '/index.html'; }"]
    return "\n".join([*lines, "  return request;", "}"])


def _preview_host_request(preview_domain: str) -> str:
    """The load balancer behaviours' function where previews have hosts: a preview host's request goes to the
    preview's paths with its name in the header its listener rules match; the base's own requests pass untouched."""
    return "\n".join(["function handler(event) {", "  var request = event.request;", *_preview_host(preview_domain),
                      "  return request;", "}"])


def _preview_request() -> str:
    """A preview's way to the load balancer: its name, from the path, in the header its listener rules match. A name
    that is not one (previews are named [a-z][a-z0-9-]{0,11}) never reaches the load balancer."""
    return "\n".join([
        "function handler(event) {",
        "  var request = event.request;",
        "  var name = request.uri.split('/')[2] || '';",
        "  if (!/^[a-z][a-z0-9-]{0,11}$/.test(name)) {",
        "    return { statusCode: 404, statusDescription: 'Not Found' };",
        "  }",
        f"  request.headers['{PREVIEW_HEADER}'] = {{ value: name }};",
        "  return request;",
        "}"])


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
        security_headers: cloudfront.IResponseHeadersPolicy,
        access_logs_bucket: str | None = None,
        domain_names: tuple[str, ...] = (),
        certificate_arn: str | None = None,
        zone_id: str | None = None,
        zone_name: str | None = None,
        origin_domain: str | None = None,
        workload_routes: tuple[str, ...] = (),
        previews: bool = False,
        preview_domain: str | None = None,
    ) -> None:
        """previews: the distribution also serves previews under /pv/<name>/ (docs/previews.md): their site files
        from the bucket's pv/<name>/ prefix, their load balancer paths with the header their rules match.
        preview_domain: and each on its own host, <name>.<preview_domain> (the certificate covers *.<preview_domain>)."""
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

        if origin_domain:
            # CloudFront checks the load balancer's certificate against this name and sends it in SNI.
            api = origins.VpcOrigin.with_application_load_balancer(
                load_balancer, domain_name=origin_domain, https_port=HTTPS_PORT,
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2], read_timeout=Duration.seconds(30),
            )
        else:
            # Without a domain there is no name to certify: the hop stays on AWS's network, inside the VPC (decisions §27).
            api = origins.VpcOrigin.with_application_load_balancer(
                load_balancer, http_port=HTTP_PORT, protocol_policy=cloudfront.OriginProtocolPolicy.HTTP_ONLY,
                read_timeout=Duration.seconds(30),
            )
        load_balancer_routes = (*PRIMARY_ROUTES, health_check_path, *workload_routes)
        api_behavior = cloudfront.BehaviorOptions(
            origin=api,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=security_headers,
            compress=True,
            function_associations=[cloudfront.FunctionAssociation(
                function=cloudfront.Function(self, "PreviewHostRequest", code=cloudfront.FunctionCode.from_inline(
                    _preview_host_request(preview_domain)), runtime=cloudfront.FunctionRuntime.JS_2_0,
                    comment="Send a preview's host to its paths and name it for its listener rules"),
                event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)] if previews and preview_domain else None,
        )
        function_associations = None
        www = len(domain_names) > 1
        if spa_fallback or www or previews:
            rewrite = cloudfront.Function(
                self, "SpaRewrite" if not (www or previews) else "ViewerRequest",
                code=cloudfront.FunctionCode.from_inline(_viewer_request(spa=spa_fallback, apex=domain_names[0] if www else None,
                                                                         previews=previews, preview_domain=preview_domain)),
                runtime=cloudfront.FunctionRuntime.JS_2_0,
                comment="Redirect www to the domain; serve index.html for single-page-app routes",
            )
            function_associations = [cloudfront.FunctionAssociation(
                function=rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)]
        aliases = (f"*.{preview_domain}",) if previews and preview_domain else ()
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
            enable_ipv6=True,
            domain_names=[*domain_names, *aliases] or None,
            certificate=acm.Certificate.from_certificate_arn(self, "Certificate", certificate_arn) if certificate_arn else None,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 if certificate_arn else None,
            ssl_support_method=cloudfront.SSLMethod.SNI if certificate_arn else None,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(
                    self.bucket, origin_access_levels=[cloudfront.AccessLevel.READ],
                ),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=site_cache,
                response_headers_policy=security_headers,
                compress=True,
                function_associations=function_associations,
            ),
            # Web workloads' paths reach the same load balancer, whose listener rules pick each one's targets.
            additional_behaviors={**{route: api_behavior for route in load_balancer_routes},
                                  **({f"{PREVIEW_PATH}/*{route}": self._preview_behavior(api_behavior) for route in load_balancer_routes}
                                     if previews else {})},
        )
        suppress(self.distribution, CLOUDFRONT_NO_GEO_RESTRICTION, CLOUDFRONT_LEGACY_LOGGING,
                 *(() if certificate_arn else (CLOUDFRONT_DEFAULT_CERTIFICATE,)))
        if zone_id and zone_name:
            zone = route53.HostedZone.from_hosted_zone_attributes(self, "Zone", hosted_zone_id=zone_id, zone_name=zone_name)
            target = route53.RecordTarget.from_alias(route53_targets.CloudFrontTarget(self.distribution))
            for index, name in enumerate([*domain_names, *aliases]):
                route53.ARecord(self, f"Alias{index}", zone=zone, record_name=f"{name}.", target=target)
                route53.AaaaRecord(self, f"AliasIpv6{index}", zone=zone, record_name=f"{name}.", target=target)

    def _preview_behavior(self, api_behavior: cloudfront.BehaviorOptions) -> cloudfront.BehaviorOptions:
        """The load balancer behaviour, with the function that names the preview in its header (one for every path)."""
        if not hasattr(self, "_preview_function"):
            self._preview_function = cloudfront.Function(
                self, "PreviewRequest", code=cloudfront.FunctionCode.from_inline(_preview_request()),
                runtime=cloudfront.FunctionRuntime.JS_2_0, comment="Name the preview a request is for, for its listener rules")
        return cloudfront.BehaviorOptions(
            origin=api_behavior.origin, viewer_protocol_policy=api_behavior.viewer_protocol_policy,
            allowed_methods=api_behavior.allowed_methods, cache_policy=api_behavior.cache_policy,
            origin_request_policy=api_behavior.origin_request_policy, response_headers_policy=api_behavior.response_headers_policy,
            compress=True, function_associations=[cloudfront.FunctionAssociation(
                function=self._preview_function, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST)])
