"""Price List parsing on GetProducts answers in the service's documented shape (Price List Query API reference,
GetProducts: PriceList is a list of JSON documents, each with product.attributes and terms.OnDemand price dimensions)."""

from __future__ import annotations

import json
import os

import pytest

from shipyard.cost.estimate import Traffic, footprint, price
from shipyard.cost.price_list import PER_UNIT_SCALE, USAGE, cached, live_prices, unit_price
from shipyard.cost.prices import for_region
from shipyard.errors import UsageError

# Sydney's list prices as the Price List publishes them (USD per unit), with the usage types of the region (APS2-).
SYDNEY = {
    ("AmazonECS", "APS2-Fargate-vCPU-Hours:perCPU"): "0.0485600000",
    ("AmazonECS", "APS2-Fargate-GB-Hours"): "0.0053300000",
    ("AmazonECS", "APS2-Fargate-ARM-vCPU-Hours:perCPU"): "0.0388500000",
    ("AmazonECS", "APS2-Fargate-ARM-GB-Hours"): "0.0042700000",
    ("AWSELB", "APS2-LoadBalancerUsage"): "0.0252000000",
    ("AWSELB", "APS2-LCUUsage"): "0.0080000000",
    ("AmazonVPC", "APS2-PublicIPv4:InUseAddress"): "0.0050000000",
    ("AmazonEC2", "APS2-NatGateway-Hours"): "0.0590000000",
    ("AmazonEC2", "APS2-NatGateway-Bytes"): "0.0590000000",
    ("AmazonCloudWatch", "APS2-DataProcessing-Bytes"): "0.6700000000",
    ("AmazonCloudWatch", "APS2-TimedStorage-ByteHrs"): "0.0330000000",
    ("AmazonS3", "APS2-TimedStorage-ByteHrs"): "0.0250000000",
    ("AmazonECR", "APS2-TimedStorage-ByteHrs"): "0.1000000000",
    ("AmazonRDS", "APS2-RDS:GP3-Storage"): "0.1380000000",
    ("AmazonRDS", "APS2-Aurora:ServerlessV2Usage"): "0.2000000000",
    ("AmazonRDS", "APS2-Aurora:StorageUsage"): "0.1100000000",
    ("AmazonRDS", "APS2-Aurora:StorageIOUsage"): "0.0000002200",
}


def _product(service: str, attributes: dict[str, str], usd: str, *, free_first: bool = False) -> str:
    dimensions = {"SKU.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "beginRange": "5" if free_first else "0", "endRange": "Inf",
                                                  "description": "paid tier", "pricePerUnit": {"USD": usd}}}
    if free_first:  # a free tier first, as CloudWatch Logs storage has
        dimensions["SKU.JRTCKXETXF.FREE"] = {"unit": "GB-Mo", "beginRange": "0", "endRange": "5", "description": "free",
                                             "pricePerUnit": {"USD": "0.0000000000"}}
    return json.dumps({"product": {"productFamily": "Compute", "sku": "SKU", "attributes": {"servicecode": service, **attributes}},
                       "serviceCode": service, "publicationDate": "2026-11-20T00:00:00Z", "version": "20261120000000",
                       "terms": {"OnDemand": {"SKU.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": "SKU",
                                                                  "priceDimensions": dimensions}}}})


def _get_products(calls: list):
    def get(service: str, filters: list[dict[str, str]]) -> list[str]:
        calls.append((service, filters))
        wanted = {f["Field"]: f["Value"] for f in filters}
        if service == "AmazonRDS" and "instanceType" in wanted:
            return [_product(service, {"regionCode": "ap-southeast-2", "instanceType": wanted["instanceType"]}, "0.0210000000")]
        usd = SYDNEY.get((service, wanted["usagetype"]))
        return [_product(service, {"regionCode": wanted["regionCode"], "usagetype": wanted["usagetype"]}, usd,
                         free_first=service == "AmazonCloudWatch")] if usd else []
    return get


def test_unit_price_takes_the_first_paid_tier():
    assert unit_price(_product("AmazonCloudWatch", {}, "0.033", free_first=True)) == pytest.approx(0.033)
    assert unit_price(json.dumps({"terms": {"OnDemand": {}}})) is None


def test_live_prices_for_a_region_the_table_does_not_cover():
    calls: list = []
    prices = live_prices("ap-southeast-2", _get_products(calls))
    assert prices.source == "AWS Price List Query API" and prices.region == "ap-southeast-2"
    assert prices.fargate_vcpu_hour["arm64"] == pytest.approx(0.03885)
    assert prices.fargate_vcpu_hour["spot-arm64"] == pytest.approx(0.03885 * 0.3)  # Spot has no list price
    assert (prices.alb_hour, prices.nat_hour, prices.log_ingest_gb) == (0.0252, 0.059, 0.67)
    assert prices.rds_instance_hour["db.t4g.micro"] == pytest.approx(0.021)
    assert (prices.aurora_acu_hour, prices.aurora_io_million) == pytest.approx((0.20, 0.22))  # I/O: per request, times a million
    assert ("AmazonECS", [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "ap-southeast-2"},
                          {"Type": "TERM_MATCH", "Field": "usagetype", "Value": "APS2-Fargate-vCPU-Hours:perCPU"}]) in calls
    # The estimate runs on them like on the table.
    template = {"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {
        "Cpu": "512", "Memory": "1024", "RuntimePlatform": {"CpuArchitecture": "ARM64"}}},
        "S": {"Type": "AWS::ECS::Service", "Properties": {"DesiredCount": 4, "TaskDefinition": {"Ref": "T"}}}}}
    lines = {line.item: line.monthly for line in price(footprint([template]), prices, Traffic.default(True))}
    assert lines["Fargate on-demand (arm64)"] == pytest.approx(4 * 730 * (0.5 * 0.03885 + 1 * 0.00427), abs=0.01)


def test_ireland_is_looked_up_by_its_billing_code_and_agrees_with_the_table():
    # Ireland's usage types start with EU-, not EUW1- ("AWS Region billing codes"; Cost Explorer shows
    # EU-Fargate-vCPU-Hours:perCPU for eu-west-1). A Price List that answers only those must give the table's figures.
    table = for_region("eu-west-1")

    def figure(key: str) -> float:
        if key.startswith("fargate_"):
            _, kind, arch = key.split("_", 2)
            return (table.fargate_vcpu_hour if kind == "vcpu" else table.fargate_gb_hour)[arch]
        return getattr(table, key)

    # The Price List quotes I/O per request, the table per million.
    ireland = {(service, f"EU-{usage}"): f"{figure(key) / PER_UNIT_SCALE.get(key, 1):.12f}" for key, (service, usage) in USAGE.items()}
    asked: list[str] = []

    def get(service: str, filters: list[dict[str, str]]) -> list[str]:
        wanted = {f["Field"]: f["Value"] for f in filters}
        if service == "AmazonRDS" and "instanceType" in wanted:
            return [_product(service, {"regionCode": "eu-west-1"}, f"{table.rds_instance_hour[wanted['instanceType']]:.10f}")]
        asked.append(wanted["usagetype"])
        usd = ireland.get((service, wanted["usagetype"]))
        return [_product(service, {"regionCode": "eu-west-1", "usagetype": wanted["usagetype"]}, usd)] if usd else []

    live = live_prices("eu-west-1", get)
    assert "EU-Fargate-vCPU-Hours:perCPU" in asked and not any(a.startswith("EUW1-") for a in asked)
    for key in USAGE:
        assert figure(key) == pytest.approx(getattr(live, key) if not key.startswith("fargate_") else
                                            (live.fargate_vcpu_hour if "_vcpu_" in key else live.fargate_gb_hour)[key.split("_", 2)[2]]), key
    assert live.rds_instance_hour == pytest.approx(table.rds_instance_hour)


def test_a_database_class_the_price_list_lacks_is_named_not_taken_from_another_region():
    def without_rds_classes(service, filters):
        return [] if service == "AmazonRDS" and any(f["Field"] == "instanceType" for f in filters) else _get_products([])(service, filters)

    prices = live_prices("ap-southeast-2", without_rds_classes)
    template = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.t4g.micro",
                                                                                      "AllocatedStorage": "20"}}}}
    with pytest.raises(UsageError, match=r"no ap-southeast-2 price for RDS instance class db\.t4g\.micro"):
        price(footprint([template]), prices, Traffic.default(False))


def test_a_price_the_price_list_lacks_is_named_not_guessed():
    def without_nat(service, filters):
        return [] if service == "AmazonEC2" else _get_products([])(service, filters)

    with pytest.raises(UsageError, match="no price for nat_gb, nat_hour"):
        live_prices("ap-southeast-2", without_nat)


def test_live_prices_are_cached_with_their_date(tmp_path):
    fetched = []

    def fetch():
        fetched.append(1)
        return live_prices("ap-southeast-2", _get_products([]))

    first = cached("ap-southeast-2", tmp_path, fetch)
    again = cached("ap-southeast-2", tmp_path, fetch)
    assert fetched == [1] and again == first and again.date == first.date
    stale = tmp_path / "prices-ap-southeast-2.json"
    os.utime(stale, (0, 0))
    cached("ap-southeast-2", tmp_path, fetch)
    assert fetched == [1, 1]  # older than a week: fetched again


def test_the_offline_table_covers_us_west_2_and_names_its_regions():
    assert for_region("us-west-2").fargate_vcpu_hour == for_region("us-east-1").fargate_vcpu_hour
    for region in ("ap-southeast-2", "sa-east-1"):
        with pytest.raises(UsageError) as refused:
            for_region(region)
        assert "covers eu-west-1, us-east-1, us-east-2, us-west-2" in refused.value.what and "--live" in refused.value.hint


def test_live_needs_credentials(cli, example_copy):
    result = cli("--config", str(example_copy), "cost", "--live")
    assert result.code == 2 and "--live" in result.err and "--aws" in result.err
