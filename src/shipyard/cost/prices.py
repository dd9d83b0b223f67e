"""The one price table: USD list prices per region, dated, each with its source.

Prices are AWS's public on-demand list prices as published on the pages cited
below, read for this table on PRICES_DATE; AWS changes them rarely, but check
the AWS Pricing Calculator before a budget decision. Fargate Spot prices move
with demand; the table holds a typical figure (70% below on-demand, for x86_64
and ARM64 alike).
Always-free tiers (CloudFront 1 TB and 10 M requests, CloudWatch 10 alarm
metrics and 3 dashboards) are per account: the estimate applies them to each
environment, which is right when each environment has its own account.
An unknown region is an error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.errors import UsageError

PRICES_DATE = "2026-11-28"
HOURS_PER_MONTH = 730

SOURCES = {
    "fargate": "https://aws.amazon.com/fargate/pricing/",
    "elb": "https://aws.amazon.com/elasticloadbalancing/pricing/",
    "ipv4": "https://aws.amazon.com/vpc/pricing/ (Public IPv4 addresses)",
    "nat": "https://aws.amazon.com/vpc/pricing/ (NAT gateway)",
    "waf": "https://aws.amazon.com/waf/pricing/",
    "cloudwatch": "https://aws.amazon.com/cloudwatch/pricing/",
    "ecr": "https://aws.amazon.com/ecr/pricing/",
    "s3": "https://aws.amazon.com/s3/pricing/",
    "cloudfront": "https://aws.amazon.com/cloudfront/pricing/",
    "route53": "https://aws.amazon.com/route53/pricing/ (hosted zones; alias queries to CloudFront are free)",
    "rds": "https://aws.amazon.com/rds/postgresql/pricing/ (on-demand, Single-AZ; Multi-AZ is twice the instance and storage)",
    "secretsmanager": "https://aws.amazon.com/secrets-manager/pricing/",
}


@dataclass(frozen=True)
class Prices:
    region: str
    fargate_vcpu_hour: dict[str, float]  # x86_64 | arm64 | spot-x86_64 | spot-arm64
    fargate_gb_hour: dict[str, float]
    alb_hour: float
    lcu_hour: float
    public_ipv4_hour: float
    nat_hour: float
    nat_gb: float
    waf_web_acl_month: float
    waf_rule_month: float
    waf_million_requests: float
    alarm_metric_month: float
    custom_metric_month: float  # the first 10,000 metrics
    composite_alarm_month: float
    dashboard_month: float
    log_ingest_gb: float
    log_store_gb_month: float
    vended_log_gb: float  # flow logs delivered to S3
    edge_log_gb: float  # CloudFront's logs delivered to CloudWatch Logs in us-east-1 (vended logs, first 10 TB)
    ecr_gb_month: float
    s3_gb_month: float
    cloudfront_gb: float  # beyond the always-free 1 TB
    cloudfront_10k_requests: float  # beyond the always-free 10 M
    rds_instance_hour: dict[str, float] = None  # type: ignore[assignment]  # PostgreSQL, Single-AZ, by instance class
    rds_gp3_gb_month: float = 0.115
    aurora_acu_hour: float = 0.12  # Aurora Serverless v2, Aurora Standard
    aurora_storage_gb_month: float = 0.10
    aurora_io_million: float = 0.20
    secret_month: float = 0.40
    hosted_zone_month: float = 0.50  # the first 25 zones of an account
    function_million: float = 0.10  # CloudFront Functions invocations
    function_free_millions: float = 2.0
    sqs_million_requests: float = 0.40  # standard queues, beyond the free tier
    sqs_free_millions: float = 1.0  # SQS requests a month, per account
    cloud_map_instance_month: float = 0.10  # a registered instance (Cloud Map pricing)
    cloudfront_free_gb: float = 1024
    cloudfront_free_requests: float = 10_000_000
    # CloudWatch's always-free tier, per account: 10 alarm metrics, 3 dashboards.
    alarm_free_metrics: int = 10
    dashboard_free: int = 3
    date: str = PRICES_DATE
    source: str = "shipyard's table"


_COMMON = dict(
    fargate_vcpu_hour={"x86_64": 0.04048, "arm64": 0.03238, "spot-x86_64": 0.012144, "spot-arm64": 0.009714},
    fargate_gb_hour={"x86_64": 0.004445, "arm64": 0.00356, "spot-x86_64": 0.0013335, "spot-arm64": 0.001068},
    lcu_hour=0.008, public_ipv4_hour=0.005, waf_web_acl_month=5.0, waf_rule_month=1.0, waf_million_requests=0.60,
    alarm_metric_month=0.10, custom_metric_month=0.30, composite_alarm_month=0.50, dashboard_month=3.00, log_store_gb_month=0.03, vended_log_gb=0.25, edge_log_gb=0.50,
    ecr_gb_month=0.10, s3_gb_month=0.023, cloudfront_gb=0.085, cloudfront_10k_requests=0.0100,
)

_RDS_US_EAST_1 = {
    "db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065, "db.t4g.large": 0.129, "db.t4g.xlarge": 0.258,
    "db.m7g.large": 0.168, "db.m7g.xlarge": 0.336, "db.m7g.2xlarge": 0.672, "db.m7g.4xlarge": 1.344,
    "db.r7g.large": 0.252, "db.r7g.xlarge": 0.504, "db.r7g.2xlarge": 1.008,
}
_RDS_EU_WEST_1 = {
    "db.t4g.micro": 0.018, "db.t4g.small": 0.036, "db.t4g.medium": 0.072, "db.t4g.large": 0.144, "db.t4g.xlarge": 0.288,
    "db.m7g.large": 0.187, "db.m7g.xlarge": 0.374, "db.m7g.2xlarge": 0.748, "db.m7g.4xlarge": 1.496,
    "db.r7g.large": 0.281, "db.r7g.xlarge": 0.562, "db.r7g.2xlarge": 1.124,
}

_US_EAST_1 = dict(alb_hour=0.0225, nat_hour=0.045, nat_gb=0.045, log_ingest_gb=0.50, rds_instance_hour=_RDS_US_EAST_1,
                  rds_gp3_gb_month=0.115, **_COMMON)
TABLE: dict[str, Prices] = {
    "us-east-1": Prices(region="us-east-1", **_US_EAST_1),
    # US East (Ohio) and US West (Oregon) list the same prices as N. Virginia for every item of this table.
    "us-east-2": Prices(region="us-east-2", **_US_EAST_1),
    "us-west-2": Prices(region="us-west-2", **_US_EAST_1),
    "eu-west-1": Prices(region="eu-west-1", alb_hour=0.0252, nat_hour=0.048, nat_gb=0.048, log_ingest_gb=0.57,
                        rds_instance_hour=_RDS_EU_WEST_1, rds_gp3_gb_month=0.127, aurora_acu_hour=0.13,
                        aurora_storage_gb_month=0.11, aurora_io_million=0.22, **_COMMON),
}


def for_region(region: str) -> Prices:
    try:
        return TABLE[region]
    except KeyError:
        raise UsageError(f"region {region}", f"has no prices in shipyard's table (dated {PRICES_DATE}), which covers "
                         f"{', '.join(sorted(TABLE))}", "price it from the AWS Price List: shipyard cost --live --aws "
                         "(or add the region to src/shipyard/cost/prices.py)") from None
