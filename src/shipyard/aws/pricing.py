"""The AWS Price List Query API (its endpoint is in us-east-1; it answers every account alike)."""

from __future__ import annotations

from shipyard.aws.session import ServiceApi


class Pricing(ServiceApi):
    service = "pricing"

    def products(self, service_code: str, filters: list[dict[str, str]]) -> list[str]:
        """Every product matching `filters`, as the price list's JSON documents."""
        return self._pages("GetProducts", "PriceList", ServiceCode=service_code, Filters=filters)
