"""Route 53: the records of the environment's zone (validation CNAMEs, aliases to the distribution)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Record:
    name: str  # without the trailing dot, lower case
    type: str
    values: tuple[str, ...]  # without trailing dots
    alias: str  # the alias target's DNS name, "" for a plain record


class Route53(ServiceApi):
    service = "route53"

    def records(self, zone_id: str) -> list[Record]:
        found = self._call("ListResourceRecordSets", HostedZoneId=zone_id, MaxItems="300")["ResourceRecordSets"]
        return [Record(r["Name"].rstrip(".").lower(), r["Type"], tuple(str(v.get("Value", "")).rstrip(".") for v in r.get("ResourceRecords", [])),
                       (r.get("AliasTarget") or {}).get("DNSName", "").rstrip(".")) for r in found]
