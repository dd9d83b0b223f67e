"""The load balancer's own certificate, for the name CloudFront reaches it by (origin.<domain>).

CloudFront checks the origin's certificate against the origin's domain name and sends that name in SNI; a
mismatch is a 502 (CloudFront developer guide, "HTTP 502 status code (Bad Gateway)"). A load balancer takes
certificates from ACM in its own region only, so this one is issued beside it, not in us-east-1 with the
viewers' certificate. It is validated by DNS like the viewers' one: in the environment's zone where shipyard
writes records, and by records made by hand where the domain's DNS lives elsewhere (deploy prints them).
The name resolves to the internal load balancer (an alias record in the zone; with DNS elsewhere, deploy lists the
record to make), so it names the load balancer however CloudFront reaches it.
"""

from __future__ import annotations

from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as route53_targets
from constructs import Construct


class OriginCertificate(Construct):
    def __init__(self, scope: Construct, id: str, *, name: str, zone_id: str | None) -> None:
        super().__init__(scope, id)
        self.certificate = acm.CfnCertificate(
            self, "Certificate", domain_name=name, validation_method="DNS",
            domain_validation_options=[acm.CfnCertificate.DomainValidationOptionProperty(domain_name=name, hosted_zone_id=zone_id)]
            if zone_id else None,
        )

    def point_to(self, load_balancer: elbv2.IApplicationLoadBalancer, *, name: str, zone_id: str) -> None:
        """The origin name's alias record, to the load balancer's private addresses."""
        zone = route53.HostedZone.from_hosted_zone_id(self, "Zone", zone_id)
        route53.ARecord(self, "Alias", zone=zone, record_name=f"{name}.",
                        target=route53.RecordTarget.from_alias(route53_targets.LoadBalancerTarget(load_balancer)))
