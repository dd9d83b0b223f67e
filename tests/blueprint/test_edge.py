import json

from aws_cdk.assertions import Template

from shipyard.blueprint.edge import Edge
from shipyard.blueprint.load_balancer import LoadBalancer
from shipyard.blueprint.network import Network
from shipyard.blueprint.security_headers import SecurityHeaders

from .helpers import bare_stack, only

WEB_ACL = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/x/abc"


def _template(**overrides) -> Template:
    stack = bare_stack()
    network = Network(stack, "N")
    lb = LoadBalancer(stack, "L", vpc=network.vpc, subnets=network.load_balancer_subnets, name="webapp-staging",
                      target_port=8000, health_check_path="/healthz", deletion_protection=False)
    headers = SecurityHeaders(stack, "H", name="webapp-staging", content_security_policy="default-src 'self'", hsts_preload=False)
    props = dict(bucket_name="webapp-staging-site-123456789012", load_balancer=lb.load_balancer,
                 health_check_path="/healthz", price_class="PriceClass_100", spa_fallback=False,
                 web_acl_arn=None, retain=False, security_headers=headers.policy)
    props.update(overrides)
    Edge(stack, "E", **props)
    return Template.from_stack(stack)


def test_bucket_private_encrypted_versioned_no_acls():
    bucket = only(_template(), "AWS::S3::Bucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert "AccessControl" not in bucket
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]


def test_bucket_policy_tls_only_and_cloudfront_scoped_by_source_arn():
    template = _template()
    statements = only(template, "AWS::S3::BucketPolicy")["PolicyDocument"]["Statement"]
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = [s for s in statements if s["Effect"] == "Allow"]
    assert len(allows) == 1
    allow = allows[0]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert allow["Action"] == "s3:GetObject"
    distribution = next(iter(template.find_resources("AWS::CloudFront::Distribution")))
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]
    assert json.dumps({"Ref": distribution}) in json.dumps(source_arn)
    assert ":distribution/" in json.dumps(source_arn)


def test_s3_origin_uses_origin_access_control_not_oai():
    template = _template()
    template.resource_count_is("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0)
    oac = only(template, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert (oac["OriginAccessControlOriginType"], oac["SigningBehavior"], oac["SigningProtocol"]) == ("s3", "always", "sigv4")
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    s3_origin = next(o for o in config["Origins"] if "S3OriginConfig" in o)
    assert "OriginAccessControlId" in s3_origin
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_api_through_vpc_origin_uncached_and_https_only():
    template = _template()
    vpc_origin = only(template, "AWS::CloudFront::VpcOrigin")["VpcOriginEndpointConfig"]
    assert vpc_origin["HTTPPort"] == 80
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviors) == {"/api/*", "/healthz"}
    for behavior in behaviors.values():
        assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
        assert behavior["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # Managed-CachingDisabled
        assert behavior["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
        assert "POST" in behavior["AllowedMethods"]
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"


def test_site_defaults_and_security_headers():
    template = _template()
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["PriceClass"] == "PriceClass_100"
    # The stack's own policy (AWS's managed SecurityHeadersPolicy leaves out includeSubDomains and a CSP).
    assert "Ref" in config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert policy["StrictTransportSecurity"] == {"AccessControlMaxAgeSec": 31536000, "IncludeSubdomains": True, "Override": True,
                                                 "Preload": False}
    assert policy["FrameOptions"]["FrameOption"] == "DENY" and policy["ContentSecurityPolicy"]["ContentSecurityPolicy"] == "default-src 'self'"
    cache = only(template, "AWS::CloudFront::CachePolicy")["CachePolicyConfig"]
    assert cache["DefaultTTL"] == 86400
    assert "WebACLId" not in config
    template.resource_count_is("AWS::CloudFront::Function", 0)


def test_web_acl_attached_when_given():
    config = only(_template(web_acl_arn=WEB_ACL), "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert config["WebACLId"] == WEB_ACL


def test_spa_fallback_rewrites_routes_without_touching_api_errors():
    template = _template(spa_fallback=True)
    function = only(template, "AWS::CloudFront::Function")
    assert "index.html" in function["FunctionCode"]
    config = only(template, "AWS::CloudFront::Distribution")["DistributionConfig"]
    assert "CustomErrorResponses" not in config
    assert config["DefaultCacheBehavior"]["FunctionAssociations"][0]["EventType"] == "viewer-request"
    assert all("FunctionAssociations" not in b for b in config["CacheBehaviors"])
