"""A domain whose DNS lives outside the environment's account (dns = "external"): deploy prints the certificate's
validation records as CloudFormation reports them and waits, bounded; once someone creates them (here in a zone of
another account, as another team's DNS would be) a second deploy carries on, lists the records to keep, and
verify passes."""

from __future__ import annotations

import re
import shutil
import urllib.request

import pytest

from shipyard.app.target import embedded
from shipyard.aws import Aws
from shipyard.config import load_config
from shipyard.deploy.dns_records import records_to_create, validation_record
from shipyard.deploy.execute import DeployOptions, deploy
from shipyard.deploy.site import publish_environment
from shipyard.deploy.state import edge_url
from shipyard.deploy.verify import verify
from shipyard.errors import ShipyardError
from shipyard.synth import synthesize

from ..conftest import EXAMPLE, STAGING_ACCOUNT, accounts_of, in_accounts


def test_cloudformations_event_wording_is_parsed():
    record = validation_record("Content of DNS Record is: {Name: _x1.shop.example.org.,Type: CNAME,Value: _x2.acm-validations.aws.}")
    assert (record.name, record.type, record.value) == ("_x1.shop.example.org.", "CNAME", "_x2.acm-validations.aws.")
    assert validation_record("Resource creation Initiated") is None


@pytest.fixture(scope="module")
def external(local_aws, tmp_path_factory, own_accounts):
    app = tmp_path_factory.mktemp("external") / "shop"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out", "tests", "__pycache__"))
    text = (app / "shipyard.toml").read_text()
    text = text.replace(f'[environments.staging]\naccount = "{STAGING_ACCOUNT}"\n',
                        f'[environments.staging]\naccount = "{STAGING_ACCOUNT}"\ndomain = "staging.shop.example.org"\ndns = "external"\n')
    (app / "shipyard.toml").write_text(text)
    config = load_config(in_accounts(app / "shipyard.toml", own_accounts))
    assembly = synthesize(config, config.select(["staging"]), tmp_path_factory.mktemp("out"))[0]
    # where the organisation's DNS lives: another account of this module's
    dns_account = accounts_of(f"{__name__}.dns")[0]
    return config, assembly, Aws(embedded(local_aws.endpoint), own_accounts[0]), Aws(embedded(local_aws.endpoint), dns_account)


def test_the_template_has_no_zone_and_no_records(external):
    _, assembly, _, _ = external
    resources = [r for stack in assembly.stacks for r in stack.template()["Resources"].values()]
    assert not [r for r in resources if r["Type"].startswith("AWS::Route53::")]
    certificates = [r for r in resources if r["Type"] == "AWS::CertificateManager::Certificate"]
    assert sorted(c["Properties"]["DomainName"] for c in certificates) == ["origin.staging.shop.example.org", "staging.shop.example.org"]
    assert not [c for c in certificates if "DomainValidationOptions" in c["Properties"]]


def test_deploy_prints_the_records_waits_bounded_then_carries_on(external, capsys):
    config, assembly, aws, dns = external
    # Two certificates wait on records made by hand: the viewers' (global stack) and the load balancer's for
    # origin.<domain> (foundation). Each deploy stops at the first that waits and prints its records.
    zone = dns.call("route53", "CreateHostedZone", "us-east-1", Name="shop.example.org", CallerReference="dns-team")["HostedZone"]
    made: dict[str, str] = {}
    for _ in range(6):  # a held stack may also still be validating when its wait ends: its records print again
        try:
            deploy(aws, assembly, DeployOptions(dns_wait=3))  # waits for a held stack, then deploys the rest
            break
        except ShipyardError as waited:
            assert "still waiting for its DNS validation records" in waited.what
            assert "shipyard deploy staging" in waited.hint
            printed = capsys.readouterr()
            found = dict(re.findall(r"^\s+(_\S+)\s+CNAME\s+(\S+)\s+\(certificate validation", printed.out + printed.err, re.M))
            assert found and any(record in waited.what for record in found), (found, waited.what)
        # The records are made where the DNS lives: another account's zone for the parent domain.
        for record, value in found.items():
            dns.call("route53", "ChangeResourceRecordSets", "us-east-1", HostedZoneId=zone["Id"], ChangeBatch={"Changes": [
                {"Action": "UPSERT", "ResourceRecordSet": {"Name": record + ".", "Type": "CNAME", "TTL": 300,
                                                           "ResourceRecords": [{"Value": value}]}}]})
        made.update(found)
    else:
        pytest.fail(f"deploy still waits after the records were made: {made}")
    assert sorted(r.split(".", 1)[1] for r in made) == ["origin.staging.shop.example.org", "staging.shop.example.org"]

    env = assembly.environment
    publish_environment(aws, env, config.site_directory)
    records = records_to_create(aws, env)
    assert sorted((r.name.rstrip("."), r.type) for r in records[:2]) == sorted((r, "CNAME") for r in made)
    assert [(r.name, r.type) for r in records[2:]] == [("origin.staging.shop.example.org", "CNAME"), ("staging.shop.example.org", "CNAME")]
    assert ".elb." in records[2].value and records[3].value.endswith(".cloudfront.net")
    failed = {r.id: r.detail for r in verify(aws, assembly, config.app, drift=False) if not r.passed}
    assert failed == {}, failed
    detail = next(r.detail for r in verify(aws, assembly, config.app, drift=False) if r.id == "SY-E108")
    assert "viewer records are at your DNS provider" in detail
    request = urllib.request.Request(edge_url(aws, env) + "/", headers={"Host": "staging.shop.example.org"})
    with urllib.request.urlopen(request) as response:
        assert b"<title>webapp</title>" in response.read()
