"""AWS::CertificateManager::Certificate into moto's ACM backend, validated by DNS as ACM does.

moto issues every requested certificate after a fixed wait, whatever DNS says. Here a certificate is issued only
once each name's validation CNAME exists in a hosted zone that holds the name (any account's: DNS is global), and
ACM's validation time (pace.py, compressed) has passed. As on CloudFormation, a certificate validated through a
hosted zone of the template gets its validation records written there, and the resource completes when ACM has
issued it; it fails when validation does not finish in time. A certificate without a zone (DNS elsewhere) holds
its stack instead (stabilize.py): each record is reported in the resource's event, "Content of DNS Record is:
{Name: ...,Type: CNAME,Value: ...}", the wording CloudFormation uses, until someone creates it in a zone that
holds the name. A drill control sets a certificate's expiry.
"""

from __future__ import annotations

import datetime
import functools
import time
from typing import Any

from moto.acm.models import CertBundle, acm_backends
from moto.core.common_models import CloudFormationModel
from moto.route53.models import route53_backends

from shipyard.localaws.core import pace
from shipyard.localaws.core.base import Handler, properties, wrap

_expiry: dict[str, datetime.datetime] = {}  # drill: certificate ARN -> NotAfter
# Not AWS's wording (which this project has not seen): the emulator's, marked as such.
VALIDATION_TIMED_OUT_REASON = ("Certificate validation timed out: no DNS validation record was found in time "
                               "(embedded AWS wording)")


def _zones_holding(name: str) -> list[Any]:
    """Every emulated hosted zone (any account) whose name contains `name`."""
    wanted = name.rstrip(".") + "."
    found = []
    for account_backends in route53_backends.values():
        for backend in account_backends.values():
            for zone in backend.zones.values():
                zone_name = zone.name.rstrip(".") + "."
                if wanted == zone_name or wanted.endswith("." + zone_name):
                    found.append(zone)
    return found


def validation_records(certificate: CertBundle) -> list[dict[str, str]]:
    return [option["ResourceRecord"] for option in certificate.describe()["Certificate"].get("DomainValidationOptions", [])]


def _validated(certificate: CertBundle) -> bool:
    for record in validation_records(certificate):
        if not any(r.name.rstrip(".") == record["Name"].rstrip(".") and r.type == "CNAME"
                   and any(str(v).rstrip(".") == record["Value"].rstrip(".") for v in r.records)
                   for zone in _zones_holding(record["Name"]) for r in zone.rrsets):
            return False
    return True


def _check(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: CertBundle) -> None:
        override = _expiry.get(self.arn)
        if override is not None and override <= datetime.datetime.now(datetime.UTC).replace(tzinfo=None):
            self.status = "EXPIRED"
            return
        if self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION":
            waited = (datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - self.created_at).total_seconds()
            if waited >= pace.local(pace.LATENCIES["certificate validation"].seconds) and _validated(self):
                self.status = "ISSUED"
            return
        original(self)

    return wrapper


def _describe(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: CertBundle) -> dict[str, Any]:
        described = original(self)
        if self.arn in _expiry:
            described["Certificate"]["NotAfter"] = _expiry[self.arn].replace(tzinfo=datetime.UTC).timestamp()
        return described

    return wrapper


def set_expiry(account: str, arn: str, not_after: datetime.datetime) -> None:
    _expiry[arn] = not_after.replace(tzinfo=None)


class Certificate(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CertificateManager::Certificate"

    def __init__(self, arn: str, region: str, *, awaiting_dns: bool = False, account: str = "") -> None:
        self.physical_id, self.region, self.account = arn, region, account
        self.attributes = {}
        self.awaiting_dns = awaiting_dns  # no zone in the template: CloudFormation waits for records made elsewhere
        self._deadline = time.monotonic() + pace.local(pace.LATENCIES["certificate validation timeout"].seconds)

    def _certificate(self) -> CertBundle:
        return acm_backends[self.account][self.region].get_certificate(self.physical_id)

    def validation_state(self) -> str:
        certificate = self._certificate()
        certificate.check()
        if certificate.status == "ISSUED":
            self.awaiting_dns = False
            return "COMPLETED"
        return "IN_PROGRESS" if time.monotonic() < self._deadline else "FAILED"

    def record_reasons(self) -> tuple[str, ...]:
        return tuple(f"Content of DNS Record is: {{Name: {r['Name']},Type: {r['Type']},Value: {r['Value']}}}"
                     for r in validation_records(self._certificate()))

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = acm_backends[account_id][region_name]
        arn = backend.request_certificate(props["DomainName"], None, props.get("SubjectAlternativeNames") or [], [])
        certificate = backend.get_certificate(arn)
        # A wildcard name is validated by its base name's record (ACM user guide, "DNS validation": *.example.com
        # and example.com share one CNAME), which is what ACM asks for.
        zones = {o["DomainName"].removeprefix("*."): o["HostedZoneId"] for o in props.get("DomainValidationOptions", [])
                 if o.get("HostedZoneId")}
        if not zones:  # DNS lives elsewhere: the stack waits (stabilize.py) while people create the records
            return cls(arn, region_name, awaiting_dns=True, account=account_id)
        for record in validation_records(certificate):
            name = record["Name"].rstrip(".").split(".", 1)[1]  # _token.<name>
            zone_id = zones.get(name)
            if zone_id:
                zone = route53_backends[account_id]["aws"].get_hosted_zone(zone_id.rsplit("/", 1)[-1])
                zone.upsert_rrset({"Name": record["Name"], "Type": "CNAME", "TTL": 300, "ResourceRecords": [record["Value"]]})
        # CloudFormation completes the certificate once ACM issued it (and fails it when validation times out).
        deadline = time.monotonic() + pace.local(pace.LATENCIES["certificate validation"].seconds) + 10
        while time.monotonic() < deadline:
            certificate.check()
            if certificate.status == "ISSUED":
                return cls(arn, region_name, account=account_id)
            time.sleep(0.1)
        names = ", ".join(r["Name"] for r in validation_records(certificate))
        raise RuntimeError(f"Certificate {arn} was not validated in time: create the DNS validation records ({names}) "
                           "in the domain's zone")

    def delete(self, account_id: str, region_name: str) -> None:
        acm_backends[account_id][self.region].delete_certificate(self.physical_id)


def install() -> None:
    wrap(CertBundle, "check", _check,
         corrects="an ACM certificate is issued after a fixed wait whatever DNS says; ACM issues it when the validation records resolve")
    wrap(CertBundle, "describe", _describe, corrects="(drill control) a certificate's expiry can be set to test renewal warnings")
