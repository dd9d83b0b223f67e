"""Custom domains end to end on the embedded AWS: both environments with their own names, certificates issued
through DNS validation in the zone, verify passing, the site through the local edge by Host header, the API over
HTTPS to origin.<domain>; and verify failing on a removed validation record, on a certificate 10 days from expiry
and on a load balancer certificate that does not name the origin."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from shipyard.app.target import embedded
from shipyard.aws import Aws
from shipyard.checks.base import StackView
from shipyard.checks.rules.cloudfront_origin_tls import RULE as ORIGIN_TLS
from shipyard.config import load_config
from shipyard.deploy.execute import DeployOptions, deploy
from shipyard.deploy.site import publish_environment
from shipyard.deploy.state import edge_url
from shipyard.deploy.verify import verify
from shipyard.naming import Output
from shipyard.synth import synthesize

from ..conftest import EXAMPLE, PRODUCTION_ACCOUNT, STAGING_ACCOUNT, in_accounts

DOMAINS = {"staging": 'domain = "staging.shop.example.com"\nhosted_zone = "staging.shop.example.com"\n',
           "production": 'domain = "shop.example.com"\nwww = true\n'}


def with_domains(directory: Path, accounts: tuple[str, str]) -> Path:
    """The example with a domain per environment, in `accounts`."""
    app = directory / "shop"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out", "tests", "__pycache__"))
    text = (app / "shipyard.toml").read_text().replace("spa_fallback = false", "spa_fallback = true")
    for name, lines in DOMAINS.items():
        account = STAGING_ACCOUNT if name == "staging" else PRODUCTION_ACCOUNT
        text = text.replace(f'[environments.{name}]\naccount = "{account}"\n', f'[environments.{name}]\naccount = "{account}"\n{lines}')
    # Staging takes previews in: each has a host under pv.<its domain> (docs/previews.md).
    (app / "shipyard.toml").write_text(text + '\n[previews]\nbase = "staging"\n')
    return in_accounts(app / "shipyard.toml", accounts)


@pytest.fixture(scope="module")
def domains(local_aws, tmp_path_factory, own_accounts):
    config = load_config(with_domains(tmp_path_factory.mktemp("domains"), own_accounts))
    assemblies = {a.environment.name: a for a in synthesize(config, config.select(None), tmp_path_factory.mktemp("out"))}
    sessions = {}
    for name, assembly in assemblies.items():
        aws = Aws(embedded(local_aws.endpoint), assembly.environment.account)
        deploy(aws, assembly, DeployOptions())
        publish_environment(aws, assembly.environment, config.site_directory)
        sessions[name] = aws
    return config, assemblies, sessions


def _failed(config, assembly, aws) -> dict[str, str]:
    # The domain's checks; drift detection (which reads every resource) has cases of its own in the tamper test.
    return {r.id: r.detail for r in verify(aws, assembly, config.app, drift=False) if not r.passed}


def test_both_environments_deploy_and_verify_with_their_domains(domains):
    config, assemblies, sessions = domains
    for name in ("staging", "production"):
        assert _failed(config, assemblies[name], sessions[name]) == {}, name
    env = assemblies["production"].environment
    aws = sessions["production"]
    from shipyard.deploy.state import edge_outputs

    distribution = json.dumps(aws.call("cloudfront", "GetDistributionConfig", "us-east-1",
                                       Id=edge_outputs(aws, env).distribution_id)["DistributionConfig"])
    assert '"MinimumProtocolVersion": "TLSv1.2_2021"' in distribution and '"SSLSupportMethod": "sni-only"' in distribution


def test_the_local_edge_answers_for_the_custom_host(domains):
    _, assemblies, sessions = domains
    url = edge_url(sessions["staging"], assemblies["staging"].environment)
    request = urllib.request.Request(url + "/", headers={"Host": "staging.shop.example.com"})
    with urllib.request.urlopen(request) as response:
        assert b"<title>webapp</title>" in response.read()
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    with pytest.raises(urllib.error.HTTPError) as other:
        urllib.request.urlopen(urllib.request.Request(url + "/", headers={"Host": "shop.example.com"}))  # production's name
    assert other.value.code == 403


def test_a_preview_has_a_host_of_its_own_under_the_bases_domain(domains):
    # The base's certificate, alias and wildcard record cover every preview's host; the edge's functions take a
    # request for pr-7.pv.<domain> to pr-7's paths: its files in the bucket, its header for its listener rules.
    _, assemblies, sessions = domains
    env, aws = assemblies["staging"].environment, sessions["staging"]
    from shipyard.deploy.state import edge_outputs

    host = "pr-7.pv.staging.shop.example.com"
    outputs = aws.cloudformation("us-east-1").stack(env.names.global_stack).outputs
    certificate = aws.call("acm", "DescribeCertificate", "us-east-1", CertificateArn=outputs[Output.CERTIFICATE_ARN])["Certificate"]
    assert certificate["Status"] == "ISSUED" and "*.pv.staging.shop.example.com" in certificate["SubjectAlternativeNames"]
    records = aws.route53().records(outputs[Output.HOSTED_ZONE_ID])
    assert {r.type for r in records if r.name == "*.pv.staging.shop.example.com"} == {"A", "AAAA"}
    aws.s3(env.region).put_object(edge_outputs(aws, env).site_bucket, "pv/pr-7/index.html", b"<title>pr-7</title>", content_type="text/html")
    url = edge_url(aws, env)
    with urllib.request.urlopen(urllib.request.Request(url + "/", headers={"Host": host})) as response:
        assert b"<title>pr-7</title>" in response.read() and response.headers["X-Shipyard-Served-By"] == "s3"
    # Its API path reaches the load balancer as pr-7's (no preview runs here: no rule of pr-7 answers it).
    with pytest.raises(urllib.error.HTTPError) as unanswered:
        urllib.request.urlopen(urllib.request.Request(url + "/api/info", headers={"Host": host}))
    assert unanswered.value.code == 404
    # The base's own host still reaches the base's rule (503: its service runs no task here, as nothing was
    # released); a name two labels deep is no alias of the distribution.
    with pytest.raises(urllib.error.HTTPError) as base:
        urllib.request.urlopen(urllib.request.Request(url + "/api/info", headers={"Host": "staging.shop.example.com"}))
    assert base.value.code == 503
    with pytest.raises(urllib.error.HTTPError) as deeper:
        urllib.request.urlopen(urllib.request.Request(url + "/", headers={"Host": f"a.{host}"}))
    assert deeper.value.code == 403


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_www_is_redirected_to_the_domain_by_the_distributions_own_function(domains):
    _, assemblies, sessions = domains
    url = edge_url(sessions["production"], assemblies["production"].environment)
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as moved:
        opener.open(urllib.request.Request(url + "/shop/cart?x=1", headers={"Host": "www.shop.example.com"}))
    assert moved.value.code == 301
    assert moved.value.headers["Location"] == "https://shop.example.com/shop/cart"
    assert moved.value.headers["X-Shipyard-Served-By"] == "function"
    # The apex goes on to the site, an app route rewritten to index.html by the same function.
    with opener.open(urllib.request.Request(url + "/shop/cart", headers={"Host": "shop.example.com"})) as response:
        assert b"<title>webapp</title>" in response.read()
        assert response.headers["X-Shipyard-Served-By"] == "s3"


def test_a_broken_validation_record_fails_verify_naming_the_certificate(domains):
    config, assemblies, sessions = domains
    env, aws = assemblies["staging"].environment, sessions["staging"]
    zone_id = next(o["OutputValue"] for o in aws.call("cloudformation", "DescribeStacks", "us-east-1", StackName=env.names.global_stack)
                   ["Stacks"][0]["Outputs"] if o["OutputKey"] == "HostedZoneId")
    record = next(r for r in aws.call("route53", "ListResourceRecordSets", "us-east-1", HostedZoneId=zone_id)["ResourceRecordSets"]
                  if r["Type"] == "CNAME")
    # Overwritten with another value: ACM's renewal can no longer find it (a DELETE hits a moto parsing gap).
    broken = {**record, "ResourceRecords": [{"Value": "somewhere.else.example.org."}]}
    aws.call("route53", "ChangeResourceRecordSets", "us-east-1", HostedZoneId=zone_id,
             ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": broken}]})
    try:
        failed = _failed(config, assemblies["staging"], aws)
        assert set(failed) == {"SY-E108"}, failed
        assert "validation record" in failed["SY-E108"] and ":certificate/" in failed["SY-E108"]
    finally:
        aws.call("route53", "ChangeResourceRecordSets", "us-east-1", HostedZoneId=zone_id,
                 ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": record}]})
    assert _failed(config, assemblies["staging"], aws) == {}


def test_a_certificate_ten_days_from_expiry_fails_verify(domains, local_aws):
    config, assemblies, sessions = domains
    _env, aws = assemblies["production"].environment, sessions["production"]
    arn = aws.call("acm", "ListCertificates", "us-east-1")["CertificateSummaryList"][0]["CertificateArn"]
    local_aws.set_certificate_expiry(arn, days=10)
    try:
        failed = _failed(config, assemblies["production"], aws)
        assert "SY-E108" in failed and "in under 30 days" in failed["SY-E108"] and arn in failed["SY-E108"], failed
    finally:
        local_aws.set_certificate_expiry(arn, days=390)
    assert _failed(config, assemblies["production"], aws) == {}


def test_cloudfront_reaches_the_load_balancer_over_tls_to_the_origin_name(domains):
    _, assemblies, sessions = domains
    edge = next(s for s in assemblies["production"].stacks if s.name.endswith("-edge")).template()
    endpoint = next(r for r in edge["Resources"].values() if r["Type"] == "AWS::CloudFront::VpcOrigin")["Properties"]["VpcOriginEndpointConfig"]
    assert (endpoint["OriginProtocolPolicy"], endpoint["OriginSSLProtocols"], endpoint["HTTPSPort"]) == ("https-only", ["TLSv1.2"], 443)
    assert list(ORIGIN_TLS.check(StackView("production", True, "edge", edge))) == []
    endpoint["OriginProtocolPolicy"] = "http-only"  # the blueprint before origins were encrypted
    assert "clear text" in next(iter(ORIGIN_TLS.check(StackView("production", True, "edge", edge)))).message
    # Through the local edge the API's path reaches the load balancer's HTTPS listener; no task runs yet, so the
    # load balancer answers 503, not CloudFront's 502 for a TLS connection it could not make.
    url = edge_url(sessions["production"], assemblies["production"].environment)
    with pytest.raises(urllib.error.HTTPError) as answered:
        urllib.request.urlopen(urllib.request.Request(url + "/api/items", headers={"Host": "shop.example.com"}))
    assert answered.value.code == 503 and answered.value.headers["X-Shipyard-Served-By"] == "load balancer"


def test_a_listener_certificate_for_another_name_fails_verify_and_the_edge(domains):
    config, assemblies, sessions = domains
    env, aws = assemblies["staging"].environment, sessions["staging"]
    balancer = aws.elbv2(env.region).load_balancer(env.names.load_balancer)
    listener = aws.call("elbv2", "DescribeListeners", env.region, LoadBalancerArn=balancer.arn)["Listeners"][0]
    other = aws.call("acm", "RequestCertificate", env.region, DomainName="elsewhere.example.org", ValidationMethod="DNS")["CertificateArn"]
    aws.call("elbv2", "ModifyListener", env.region, ListenerArn=listener["ListenerArn"], Certificates=[{"CertificateArn": other}])
    try:
        failed = _failed(config, assemblies["staging"], aws)
        assert set(failed) == {"SY-E111"} and "does not name origin.staging.shop.example.com" in failed["SY-E111"], failed
        url = edge_url(aws, env)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url + "/api/items", headers={"Host": "staging.shop.example.com"}))
        assert refused.value.code == 502 and b"names origin.staging.shop.example.com" in refused.value.read()
    finally:
        aws.call("elbv2", "ModifyListener", env.region, ListenerArn=listener["ListenerArn"], Certificates=listener["Certificates"])
    assert _failed(config, assemblies["staging"], aws) == {}
