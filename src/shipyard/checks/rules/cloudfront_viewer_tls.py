from __future__ import annotations

import datetime
from typing import Any

from shipyard.aws import GLOBAL_REGION
from shipyard.aws.acm import Certificate
from shipyard.aws.route53 import Record
from shipyard.checks.base import Category, Rule, Severity, StackView, Violation
from shipyard.checks.live import LiveEnvironment, LiveFinding
from shipyard.naming import Output

MINIMUM = "TLSv1.2_2021"
# CloudFront's viewer security policies, oldest first (CloudFront developer guide, "Supported protocols and ciphers").
ORDER = ("SSLv3", "TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019", "TLSv1.2_2021", "TLSv1.3_2025")


def viewer_tls_problems(config: dict[str, Any], *, certificate_region: str | None) -> list[str]:
    """Aliases without a certificate, a certificate outside us-east-1, a protocol policy below TLSv1.2_2021."""
    aliases = config.get("Aliases") or []
    aliases = aliases.get("Items", []) if isinstance(aliases, dict) else aliases
    certificate = config.get("ViewerCertificate") or {}
    arn = certificate.get("AcmCertificateArn") or certificate.get("ACMCertificateArn")
    problems = []
    if aliases and not arn:
        problems.append(f"aliases {', '.join(map(str, aliases))} have no ACM certificate")
    if arn and certificate_region not in (None, "us-east-1"):
        problems.append(f"the certificate is in {certificate_region}; CloudFront takes certificates from us-east-1 only")
    if arn:
        policy = certificate.get("MinimumProtocolVersion", "TLSv1")
        if policy not in ORDER or ORDER.index(policy) < ORDER.index(MINIMUM):
            problems.append(f"minimum protocol {policy} is below {MINIMUM}")
        if certificate.get("SslSupportMethod", certificate.get("SSLSupportMethod")) not in ("sni-only", None):
            problems.append("a dedicated-IP certificate costs $600 a month; use sni-only")
    return problems


class CloudFrontViewerTls(Rule):
    id = "SY-E108"
    severity = Severity.ERROR
    category = Category.EDGE
    short = "Distribution aliases without a us-east-1 certificate, or viewer TLS below TLSv1.2_2021"
    long = ("A distribution with aliases needs an ACM certificate from us-east-1 (CloudFront's only region for them), "
            "served with SNI and the TLSv1.2_2021 security policy or newer.")
    rationale = "Older policies let viewers negotiate TLS 1.0 and 1.1, and an alias without a certificate answers with the wrong name."

    def check(self, view: StackView):
        for logical_id, props in view.resources("AWS::CloudFront::Distribution"):
            config = props.get("DistributionConfig") or {}
            certificate = (config.get("ViewerCertificate") or {}).get("AcmCertificateArn")
            region = certificate.split(":")[3] if isinstance(certificate, str) and certificate.startswith("arn:") else None
            for problem in viewer_tls_problems(config, certificate_region=region):
                yield Violation(logical_id, problem)

    verify_title = "custom domain: certificate, TLS policy and DNS"

    def verify(self, live: LiveEnvironment) -> LiveFinding:
        config, env = live.distribution, live.env
        if not env.domain:
            problems = viewer_tls_problems(config.document, certificate_region=None)
            return LiveFinding(not problems, f"distribution {live.distribution_id}",
                               "; ".join(problems) or "no custom domain (the cloudfront.net name)")
        arn = config.certificate_arn
        problems = viewer_tls_problems(config.document, certificate_region=arn.split(":")[3] if arn.startswith("arn:") else None)
        if config.aliases != set(env.certified_names):
            problems.append(f"aliases are {sorted(config.aliases)}, not {list(env.certified_names)}")
        if arn:
            certificate = live.aws.acm().certificate(arn)
            problems += _certificate_problems(certificate, env.certified_names)
            if env.dns == "external":  # the records live outside this account: ACM's view of them is what can be read
                problems += _external_validation_problems(certificate)
            else:
                zone = live.aws.cloudformation(GLOBAL_REGION).stack(env.names.global_stack)
                zone_id = zone.outputs.get(Output.HOSTED_ZONE_ID) if zone else None
                if zone_id:
                    problems += _dns_problems(live.aws.route53().records(zone_id), certificate, live.distribution_domain,
                                              env.certified_names)
        routed = ("validation records seen by ACM; viewer records are at your DNS provider, not checked here"
                  if env.dns == "external" else "A/AAAA to the distribution")
        return LiveFinding(not problems, arn or f"distribution {live.distribution_id}",
                           "; ".join(problems) or f"{', '.join(env.certified_names)}: certificate ISSUED, TLSv1.2_2021, {routed}")



def _certificate_problems(certificate: Certificate, names: tuple[str, ...]) -> list[str]:
    problems = [] if certificate.status == "ISSUED" else [f"certificate {certificate.arn} is {certificate.status}"]
    if not set(names) <= certificate.names:
        problems.append(f"certificate {certificate.arn} does not cover {sorted(set(names) - certificate.names)}")
    expires = certificate.not_after
    if expires is not None and expires - datetime.datetime.now(datetime.UTC) < datetime.timedelta(days=30):
        problems.append(f"certificate {certificate.arn} expires {expires:%Y-%m-%d}, in under 30 days")
    return problems


def _external_validation_problems(certificate: Certificate) -> list[str]:
    """DNS elsewhere: every name validated, and no renewal failing for want of its record."""
    problems = [f"certificate {certificate.arn}: {v.domain} validation is {v.status}" for v in certificate.validations if v.status != "SUCCESS"]
    if certificate.renewal_status == "FAILED":
        problems.append(f"certificate {certificate.arn}: renewal failed ({certificate.renewal_reason or 'no reason given'}); "
                        "the validation records must stay at your DNS provider")
    return problems


def _dns_problems(records: list[Record], certificate: Certificate, distribution: str, names: tuple[str, ...]) -> list[str]:
    """The validation records ACM renews with, and alias A and AAAA records to this distribution for every name."""
    found = {(r.name, r.type): r for r in records}
    problems = []
    for validation in certificate.validations:
        present = found.get((validation.name.rstrip(".").lower(), "CNAME"))
        if present is None or validation.value.rstrip(".") not in present.values:
            problems.append(f"certificate {certificate.arn}: validation record {validation.name} is missing, so ACM cannot renew it")
    for name in names:
        for kind in ("A", "AAAA"):
            alias = found[(name.lower(), kind)].alias if (name.lower(), kind) in found else ""
            if alias != distribution:
                problems.append(f"{name} {kind} points to {alias or 'nothing'}, not {distribution}")
    return problems


RULE = CloudFrontViewerTls()
