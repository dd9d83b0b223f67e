"""An environment's own domain: its Route 53 zone (created, or an existing one) and an ACM certificate for it.

CloudFront takes certificates only from us-east-1, so this construct lives in the environment's global stack.
The certificate is validated by DNS: CloudFormation writes each name's validation record into the zone and
completes the certificate once ACM has issued it; the record stays, so ACM renews the certificate on its own.
With DNS elsewhere (zone_name None) there is no zone here: CloudFormation reports each validation record in the
certificate's CREATE_IN_PROGRESS event and waits until someone creates it where the domain's DNS lives.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_route53 as route53
from constructs import Construct


class Domain(Construct):
    def __init__(self, scope: Construct, id: str, *, names: tuple[str, ...], zone_name: str | None, zone_id: str | None) -> None:
        super().__init__(scope, id)
        self.zone_id: str | None = None
        if zone_name is None:
            pass
        elif zone_id:
            self.zone_id = zone_id
        else:
            zone = route53.CfnHostedZone(self, "Zone", name=zone_name,
                                         hosted_zone_config=route53.CfnHostedZone.HostedZoneConfigProperty(
                                             comment=f"{zone_name}: created by shipyard"))
            # Kept when the stack goes: registrars and other DNS delegate to its name servers.
            zone.apply_removal_policy(RemovalPolicy.RETAIN)
            self.zone_id = zone.attr_id
        self.certificate = acm.CfnCertificate(
            self, "Certificate", domain_name=names[0], subject_alternative_names=list(names[1:]) or None,
            validation_method="DNS",
            domain_validation_options=[acm.CfnCertificate.DomainValidationOptionProperty(domain_name=name, hosted_zone_id=self.zone_id)
                                       for name in names] if self.zone_id else None,
        )
