"""Route 53 in the embedded AWS (patches only; moto's own CloudFormation models serve the zone and record types)."""

from __future__ import annotations

from typing import Any

from moto.route53.models import FakeZone

from shipyard.localaws.core.base import patch


def _zone_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    if attribute_name == "Id":
        return self.resource_id
    if attribute_name == "NameServers":
        return list((self.delegation_set.name_servers if self.delegation_set else None) or
                    ["ns-2048.awsdns-64.com", "ns-2049.awsdns-65.net", "ns-2050.awsdns-66.org", "ns-2051.awsdns-67.co.uk"])
    raise UnformattedGetAttTemplateException()


def install() -> None:
    patch(FakeZone, "get_cfn_attribute", _zone_attribute, corrects="Fn::GetAtt of a hosted zone's Id and NameServers is unimplemented")
    patch(FakeZone, "has_cfn_attr", classmethod(lambda cls, attr: attr in ("Id", "NameServers")),
          corrects="(with the above) a hosted zone names no attributes")
