from __future__ import annotations

from typing import Any

from shipyard.checks.base import Category, Rule, Severity, StackView, Violation

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


RULE = CloudFrontViewerTls()
