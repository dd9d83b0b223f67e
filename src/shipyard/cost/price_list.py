"""Current list prices from the AWS Price List Query API (`pricing` GetProducts), cached with their date.

Each price the estimate uses is looked up by service code and usage type (the Price List's `usagetype`
attribute: the region's billing code and the usage, e.g. APS2-Fargate-vCPU-Hours:perCPU in Sydney); its price is the
first non-zero USD price per unit of the product's OnDemand terms. Fargate Spot has no list price (it moves with
demand): the live estimate keeps the table's 70% discount on the live on-demand price. What the Price List does
not answer for the region is named, never guessed: the estimate refuses with the missing items.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from shipyard.cost.prices import TABLE, Prices
from shipyard.errors import UsageError

CACHE_DAYS = 7
SPOT_DISCOUNT = 0.70

# Usage types per price: (service code, usagetype after the region prefix). Sources: each service's Price List
# (GetProducts with a usagetype filter); the names are those the services' bills and Cost Explorer show.
USAGE: dict[str, tuple[str, str]] = {
    "fargate_vcpu_x86_64": ("AmazonECS", "Fargate-vCPU-Hours:perCPU"),
    "fargate_gb_x86_64": ("AmazonECS", "Fargate-GB-Hours"),
    "fargate_vcpu_arm64": ("AmazonECS", "Fargate-ARM-vCPU-Hours:perCPU"),
    "fargate_gb_arm64": ("AmazonECS", "Fargate-ARM-GB-Hours"),
    "alb_hour": ("AWSELB", "LoadBalancerUsage"),
    "lcu_hour": ("AWSELB", "LCUUsage"),
    "public_ipv4_hour": ("AmazonVPC", "PublicIPv4:InUseAddress"),
    "nat_hour": ("AmazonEC2", "NatGateway-Hours"),
    "nat_gb": ("AmazonEC2", "NatGateway-Bytes"),
    "log_ingest_gb": ("AmazonCloudWatch", "DataProcessing-Bytes"),
    "log_store_gb_month": ("AmazonCloudWatch", "TimedStorage-ByteHrs"),
    "s3_gb_month": ("AmazonS3", "TimedStorage-ByteHrs"),
    "ecr_gb_month": ("AmazonECR", "TimedStorage-ByteHrs"),
    "rds_gp3_gb_month": ("AmazonRDS", "RDS:GP3-Storage"),
    "aurora_acu_hour": ("AmazonRDS", "Aurora:ServerlessV2Usage"),
    "aurora_storage_gb_month": ("AmazonRDS", "Aurora:StorageUsage"),
    "aurora_io_million": ("AmazonRDS", "Aurora:StorageIOUsage"),
}
# Keys the Price List quotes per unit where the table holds a multiple: I/O is priced per request.
PER_UNIT_SCALE = {"aurora_io_million": 1_000_000}
# Region prefixes of usage types: the billing codes of "AWS Region billing codes" (AWS Regions and Availability Zones
# guide), which the Price List's usagetype attribute carries. Ireland's is EU, not EUW1; us-east-1 has USE1 on some
# services and no prefix on others.
PREFIX = {"us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2", "ca-central-1": "CAN1",
          "ca-west-1": "CAN2", "mx-central-1": "MXC1", "sa-east-1": "SAE1", "af-south-1": "AFS1",
          "eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3", "eu-central-1": "EUC1", "eu-central-2": "EUC2",
          "eu-north-1": "EUN1", "eu-south-1": "EUS1", "eu-south-2": "EUS2", "me-south-1": "MES1", "me-central-1": "MEC1",
          "il-central-1": "ILC1", "ap-east-1": "APE1", "ap-east-2": "APE2", "ap-northeast-1": "APN1",
          "ap-northeast-2": "APN2", "ap-northeast-3": "APN3", "ap-southeast-1": "APS1", "ap-southeast-2": "APS2",
          "ap-south-1": "APS3", "ap-southeast-3": "APS4", "ap-south-2": "APS5", "ap-southeast-4": "APS6",
          "ap-southeast-5": "APS7", "ap-southeast-6": "APS8", "ap-southeast-7": "APS9"}
GetProducts = Callable[[str, list[dict[str, str]]], Iterable[str]]  # (service code, filters) -> PriceList items


def unit_price(item: str | dict[str, Any]) -> float | None:
    """The first non-zero USD price per unit of a Price List product's OnDemand terms (tiers start at 0)."""
    product = json.loads(item) if isinstance(item, str) else item
    for term in (product.get("terms", {}).get("OnDemand") or {}).values():
        tiers = sorted(term.get("priceDimensions", {}).values(), key=lambda d: float(d.get("beginRange", 0) or 0))
        for dimension in tiers:
            usd = float((dimension.get("pricePerUnit") or {}).get("USD", 0) or 0)
            if usd > 0:
                return usd
    return None


def live_prices(region: str, get_products: GetProducts) -> Prices:
    """Prices for `region` from the Price List; UsageError naming what it does not answer."""
    if region not in PREFIX:
        raise UsageError(f"region {region}", "is not a region shipyard knows the Price List prefix of",
                         f"known: {', '.join(sorted(PREFIX))}")
    found: dict[str, float] = {}
    for key, (service, usage) in USAGE.items():
        for usagetype in (f"{PREFIX[region]}-{usage}", usage):
            prices = [p for p in (unit_price(i) for i in get_products(service, [
                {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
                {"Type": "TERM_MATCH", "Field": "usagetype", "Value": usagetype}])) if p]
            if prices:
                found[key] = min(prices)
                break
    found.update({key: found[key] * scale for key, scale in PER_UNIT_SCALE.items() if key in found})
    missing = sorted(set(USAGE) - set(found))
    if missing:
        raise UsageError(f"region {region}", f"the Price List has no price for {', '.join(missing)}",
                         "use the offline table (drop --live) where it covers the region")
    rds = {}
    for instance_class in TABLE["us-east-1"].rds_instance_hour:
        items = get_products("AmazonRDS", [
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region},
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": instance_class},
            {"Type": "TERM_MATCH", "Field": "databaseEngine", "Value": "PostgreSQL"},
            {"Type": "TERM_MATCH", "Field": "deploymentOption", "Value": "Single-AZ"}])
        prices = [p for p in (unit_price(i) for i in items) if p]
        if prices:
            rds[instance_class] = min(prices)
    # Byte-priced usage types are quoted per GB (unit GB or GB-Mo), as the table holds them. WAF, CloudWatch alarms
    # and dashboards, CloudFront, Secrets Manager and Route 53 keep the table's figures (their list prices are global).
    base = TABLE["us-east-1"]

    def with_spot(kind: str) -> dict[str, float]:
        on_demand = {arch: found[f"fargate_{kind}_{arch}"] for arch in ("x86_64", "arm64")}
        return {**on_demand, **{f"spot-{arch}": round(price * (1 - SPOT_DISCOUNT), 7) for arch, price in on_demand.items()}}

    return dataclasses.replace(
        base, region=region, date=time.strftime("%Y-%m-%d"), source="AWS Price List Query API",
        fargate_vcpu_hour=with_spot("vcpu"), fargate_gb_hour=with_spot("gb"),
        # Every other USAGE key is a Prices field of the same name.
        **{key: price for key, price in found.items() if not key.startswith("fargate_")},
        # Only the classes the Price List prices: the estimate names a database class it lacks (no guess).
        rds_instance_hour=rds,
    )


def cached(region: str, cache_dir: Path, fetch: Callable[[], Prices], *, now: float | None = None) -> Prices:
    """The region's live prices from the cache when under CACHE_DAYS old, otherwise fetched and cached."""
    path = cache_dir / f"prices-{region}.json"
    now = time.time() if now is None else now
    if path.exists() and now - path.stat().st_mtime < CACHE_DAYS * 86400:
        return Prices(**json.loads(path.read_text()))
    prices = fetch()
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(prices), indent=2, sort_keys=True))
    return prices
