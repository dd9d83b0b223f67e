"""CloudFront and WAF (CLOUDFRONT scope): a distribution's configuration, its origin access controls and web ACL,
and invalidations. Both are global services whose API lives in us-east-1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Origin:
    id: str
    s3: bool  # an S3 origin (S3OriginConfig), not a custom or VPC origin
    access_control: str  # the origin access control's id, "" when none
    domain: str  # the name CloudFront connects by (and checks the origin's certificate against)
    vpc_origin: str  # the VPC origin's id, "" when none


@dataclass(frozen=True)
class VpcOriginEndpoint:
    id: str
    resource_arn: str  # the load balancer (or instance) behind it
    protocol_policy: str  # http-only | https-only | match-viewer
    http_port: int
    https_port: int
    ssl_protocols: frozenset[str]  # what CloudFront offers the origin over TLS


@dataclass(frozen=True)
class Behavior:
    path: str  # "default" for the default behaviour
    viewer_protocol: str  # allow-all | redirect-to-https | https-only


@dataclass(frozen=True)
class DistributionConfig:
    origins: tuple[Origin, ...]
    behaviors: tuple[Behavior, ...]
    aliases: frozenset[str]
    certificate_arn: str
    web_acl: str  # the web ACL's ARN, "" when none
    document: dict[str, Any]  # the whole configuration, for the rules that read it as the template declares it


@dataclass(frozen=True)
class WebAcl:
    arn: str
    rules: tuple[dict[str, Any], ...]  # rule documents, as a template declares them


class CloudFront(ServiceApi):
    service = "cloudfront"

    def distribution_config(self, distribution_id: str) -> DistributionConfig:
        config = self._call("GetDistributionConfig", Id=distribution_id)["DistributionConfig"]
        origins = tuple(Origin(o["Id"], o.get("S3OriginConfig") is not None, o.get("OriginAccessControlId") or "", o.get("DomainName", ""),
                               (o.get("VpcOriginConfig") or {}).get("VpcOriginId", ""))
                        for o in (config.get("Origins") or {}).get("Items", []))
        behaviors = tuple(Behavior(b.get("PathPattern", "default"), b.get("ViewerProtocolPolicy", ""))
                          for b in [config["DefaultCacheBehavior"], *((config.get("CacheBehaviors") or {}).get("Items") or [])])
        return DistributionConfig(origins, behaviors, frozenset((config.get("Aliases") or {}).get("Items") or []),
                                  (config.get("ViewerCertificate") or {}).get("ACMCertificateArn", ""), config.get("WebACLId") or "",
                                  config)

    def vpc_origin(self, vpc_origin_id: str) -> VpcOriginEndpoint | None:
        answer = self._found("GetVpcOrigin", Id=vpc_origin_id)
        if answer is None:
            return None
        endpoint = answer["VpcOrigin"]["VpcOriginEndpointConfig"]
        return VpcOriginEndpoint(vpc_origin_id, endpoint["Arn"], endpoint.get("OriginProtocolPolicy", ""), int(endpoint.get("HTTPPort", 80)),
                                 int(endpoint.get("HTTPSPort", 443)), frozenset((endpoint.get("OriginSslProtocols") or {}).get("Items") or []))

    def origin_access_control_exists(self, control_id: str) -> bool:
        return self._found("GetOriginAccessControl", Id=control_id) is not None

    def invalidate(self, distribution_id: str, paths: list[str], reference: str) -> str:
        batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": reference}
        return self._call("CreateInvalidation", DistributionId=distribution_id, InvalidationBatch=batch)["Invalidation"]["Id"]


class Waf(ServiceApi):
    service = "wafv2"

    def web_acl(self, arn: str) -> WebAcl | None:
        """A CLOUDFRONT-scope web ACL by the ARN a distribution names, or None when it does not exist."""
        name, acl_id = arn.split("/")[-2:]
        answer = self._found("GetWebACL", Name=name, Scope="CLOUDFRONT", Id=acl_id)
        return WebAcl(arn, tuple(answer["WebACL"]["Rules"])) if answer else None
