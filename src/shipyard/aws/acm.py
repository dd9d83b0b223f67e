"""Certificate Manager: a certificate's status, names, expiry and DNS validation as ACM reports them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class ValidationRecord:
    domain: str
    status: str  # PENDING_VALIDATION | SUCCESS | FAILED
    name: str  # the CNAME to create ("" until ACM has made it)
    type: str
    value: str


@dataclass(frozen=True)
class Certificate:
    arn: str
    status: str  # ISSUED | PENDING_VALIDATION | ...
    names: frozenset[str]  # the domain name and every subject alternative name
    not_after: datetime.datetime | None
    validations: tuple[ValidationRecord, ...]
    renewal_status: str
    renewal_reason: str


class Acm(ServiceApi):
    service = "acm"

    def certificate(self, arn: str) -> Certificate:
        found = self._call("DescribeCertificate", CertificateArn=arn)["Certificate"]
        not_after = found.get("NotAfter")
        if isinstance(not_after, (int, float)):
            not_after = datetime.datetime.fromtimestamp(not_after, datetime.UTC)
        renewal = found.get("RenewalSummary") or {}
        return Certificate(
            arn, found["Status"], frozenset({found.get("DomainName", ""), *found.get("SubjectAlternativeNames", [])}), not_after,
            tuple(ValidationRecord(o.get("DomainName", ""), o.get("ValidationStatus", ""), (o.get("ResourceRecord") or {}).get("Name", ""),
                                   (o.get("ResourceRecord") or {}).get("Type", ""), (o.get("ResourceRecord") or {}).get("Value", ""))
                  for o in found.get("DomainValidationOptions", [])),
            renewal.get("RenewalStatus", ""), renewal.get("RenewalStatusReason", ""))
