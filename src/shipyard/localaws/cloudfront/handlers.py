"""CloudFront resource types: Distribution, OriginAccessControl and Function into
moto's CloudFront backend; VpcOrigin and CachePolicy, which moto does not model,
into shipyard's extension backend."""

from __future__ import annotations

import copy
import datetime
import functools
import uuid
from typing import Any

from moto.cloudfront.models import cloudfront_backends
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition

from shipyard.localaws.cloudfront import local_edge
from shipyard.localaws.cloudfront.extension import extension_backend
from shipyard.localaws.core.base import Handler, patch, properties, tags_list, wrap


def _backend(account_id: str, region_name: str):
    return cloudfront_backends[account_id][get_partition(region_name)]


def _items(values: list[Any] | None) -> dict[str, Any]:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values}


def _behavior(cfn: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation cache behaviour in the CloudFront API's shape."""
    api = dict(cfn)
    methods = cfn.get("AllowedMethods", ["GET", "HEAD"])
    cached = cfn.get("CachedMethods", ["GET", "HEAD"])
    api["AllowedMethods"] = {**_items(methods), "CachedMethods": _items(cached)}
    api.pop("CachedMethods", None)
    if "FunctionAssociations" in cfn:
        api["FunctionAssociations"] = _items(cfn["FunctionAssociations"])
    return api


def api_distribution_config(cfn: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """CloudFormation's DistributionConfig (lists) in the CloudFront API's shape (Quantity/Items)."""
    cfn = copy.deepcopy(cfn)
    api: dict[str, Any] = {
        "CallerReference": caller_reference,
        "Comment": cfn.get("Comment", ""),
        "Enabled": cfn.get("Enabled", True),
        "DefaultRootObject": cfn.get("DefaultRootObject", ""),
        "PriceClass": cfn.get("PriceClass", "PriceClass_All"),
        "HttpVersion": cfn.get("HttpVersion", "http2"),
        "IsIPV6Enabled": cfn.get("IPV6Enabled", True),
        "WebACLId": cfn.get("WebACLId", ""),
        "Origins": _items(cfn["Origins"]),
        "DefaultCacheBehavior": _behavior(cfn["DefaultCacheBehavior"]),
    }
    if cfn.get("CacheBehaviors"):
        api["CacheBehaviors"] = _items([_behavior(b) for b in cfn["CacheBehaviors"]])
    if cfn.get("CustomErrorResponses"):
        api["CustomErrorResponses"] = _items(cfn["CustomErrorResponses"])
    if cfn.get("Aliases"):
        api["Aliases"] = _items(cfn["Aliases"])
    certificate = cfn.get("ViewerCertificate")
    if certificate:  # CloudFormation's casing (AcmCertificateArn, SslSupportMethod) in the API's
        api["ViewerCertificate"] = {
            "CloudFrontDefaultCertificate": bool(certificate.get("CloudFrontDefaultCertificate", False)),
            **({"ACMCertificateArn": certificate["AcmCertificateArn"], "CertificateSource": "acm"} if certificate.get("AcmCertificateArn") else {}),
            "SSLSupportMethod": certificate.get("SslSupportMethod", "sni-only"),
            "MinimumProtocolVersion": certificate.get("MinimumProtocolVersion", "TLSv1"),
        }
    return api


class Distribution(Handler, CloudFormationModel):
    ATTRIBUTES = ("DomainName", "Id")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::Distribution"

    def __init__(self, distribution: Any, caller_reference: str) -> None:
        self.physical_id = distribution.distribution_id
        self.caller_reference = caller_reference
        self.attributes = {"DomainName": distribution.domain_name, "Id": distribution.distribution_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        cfn = props["DistributionConfig"]
        reference = f"shipyard-{uuid.uuid4()}"
        distribution, _, _ = _backend(account_id, region_name).create_distribution(
            api_distribution_config(cfn, reference), tags_list(props))
        return cls(distribution, reference)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        # In place, as CloudFront does: the distribution keeps its id and domain.
        cfn = properties(cloudformation_json)["DistributionConfig"]
        distribution, _, _ = _backend(account_id, region_name).update_distribution(
            api_distribution_config(cfn, original_resource.caller_reference), original_resource.physical_id, if_match=True)
        return cls(distribution, original_resource.caller_reference)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).delete_distribution(self.physical_id, if_match=True)


class OriginAccessControl(Handler, CloudFormationModel):
    ATTRIBUTES = ("Id",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::OriginAccessControl"

    def __init__(self, control_id: str) -> None:
        self.physical_id = control_id
        self.attributes = {"Id": control_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        config = properties(cloudformation_json)["OriginAccessControlConfig"]
        control = _backend(account_id, region_name).create_origin_access_control(dict(config))
        return cls(control.id)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).origin_access_controls.pop(self.physical_id, None)


class Function(Handler, CloudFormationModel):
    ATTRIBUTES = ("FunctionARN", "FunctionMetadata.FunctionARN", "Stage")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::Function"

    def __init__(self, name: str, arn: str) -> None:
        self.physical_id = arn
        self.name = name
        self.attributes = {"FunctionARN": arn, "FunctionMetadata.FunctionARN": arn, "Stage": "LIVE"}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        function = _backend(account_id, region_name).create_function(
            name=props["Name"], function_config=props["FunctionConfig"],
            function_code=props["FunctionCode"].encode(), tags=[])
        return cls(function.name, function.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        _backend(account_id, region_name).functions.pop(self.name, None)


class _ExtensionHandler(Handler):
    KIND = ""
    CONFIG_KEY = ""

    def __init__(self, resource_id: str, arn: str) -> None:
        self.physical_id = resource_id
        self.attributes = {"Id": resource_id, "Arn": arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        config = properties(cloudformation_json)[cls.CONFIG_KEY]
        resource = extension_backend.create(account_id, cls.KIND, dict(config))
        resource.tags = tags_list(properties(cloudformation_json))
        return cls(resource.id, resource.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        extension_backend.delete(account_id, self.physical_id)


class VpcOrigin(_ExtensionHandler, CloudFormationModel):
    ATTRIBUTES = ("Id", "Arn")
    KIND = "vpcorigin"
    CONFIG_KEY = "VpcOriginEndpointConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::VpcOrigin"


class ResponseHeadersPolicy(_ExtensionHandler, CloudFormationModel):
    ATTRIBUTES = ("Id",)
    KIND = "response-headers-policy"
    CONFIG_KEY = "ResponseHeadersPolicyConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::ResponseHeadersPolicy"


class CachePolicy(_ExtensionHandler, CloudFormationModel):
    ATTRIBUTES = ("Id",)
    KIND = "cache-policy"
    CONFIG_KEY = "CachePolicyConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::CachePolicy"


# Corrections of moto's own CLOUDFRONT behaviour.

def _origin_init(original: Any) -> Any:
    """moto's CloudFront origin drops OAC, S3 and VPC-origin settings; keep them for GetDistribution."""

    @functools.wraps(original)
    def wrapper(self: Any, origin: dict[str, Any]) -> None:
        original(self, origin)
        if "S3OriginConfig" in origin:
            self.s3_origin_config = {"OriginAccessIdentity": origin["S3OriginConfig"].get("OriginAccessIdentity") or ""}
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        if "VpcOriginConfig" in origin:
            self.vpc_origin_config = origin["VpcOriginConfig"]

    return wrapper


def _behaviour_init(original: Any) -> Any:
    """moto's cache behaviours always report no function associations; keep the template's."""

    @functools.wraps(original)
    def wrapper(self: Any, config: dict[str, Any]) -> None:
        original(self, config)
        if config.get("FunctionAssociations"):
            self.function_associations = config["FunctionAssociations"]

    return wrapper


def reset() -> None:
    """Local edges close; the resources moto keeps no backend for are forgotten."""
    local_edge.reset()
    extension_backend.reset()


def _get_vpc_origin(self: Any) -> Any:
    """GetVpcOrigin (API reference): the VPC origin's endpoint configuration as CloudFront reports it."""
    from moto.cloudfront.exceptions import CloudFrontException
    from moto.core.responses import ActionResult

    found = extension_backend.get(self.current_account, self.uri_match["Id"])
    if found is None or found.kind != VpcOrigin.KIND:
        raise CloudFrontException("EntityNotFound", "The VPC origin does not exist.")
    config = found.config
    protocols = config.get("OriginSSLProtocols") or ["TLSv1", "TLSv1.1", "TLSv1.2"]
    endpoint = {"Name": config.get("Name", found.id), "Arn": config["Arn"], "HTTPPort": int(config.get("HTTPPort", 80)),
                "HTTPSPort": int(config.get("HTTPSPort", 443)), "OriginProtocolPolicy": config.get("OriginProtocolPolicy", "match-viewer"),
                "OriginSslProtocols": {"Quantity": len(protocols), "Items": protocols}}
    now = datetime.datetime.now(datetime.UTC)
    return ActionResult({"VpcOrigin": {"Id": found.id, "Arn": found.arn, "AccountId": self.current_account, "Status": "Deployed",
                                       "CreatedTime": now, "LastModifiedTime": now, "VpcOriginEndpointConfig": endpoint},
                         "ETag": found.id})


def install() -> None:
    from moto.cloudfront import models as cloudfront_models
    from moto.cloudfront import urls as cloudfront_urls
    from moto.cloudfront.responses import CloudFrontResponse

    cloudfront_urls.url_paths["{0}/2020-05-31/vpc-origin/(?P<vpc_origin_id>[^/]+)$"] = CloudFrontResponse.dispatch
    patch(CloudFrontResponse, "get_vpc_origin", _get_vpc_origin, corrects="GetVpcOrigin is not implemented")

    wrap(cloudfront_models.DefaultCacheBehaviour, "__init__", _behaviour_init,
         corrects="cache behaviours drop their CloudFront Function associations, so viewer-request functions never run")

    wrap(cloudfront_models.Origin, "__init__", _origin_init,
         corrects="origins drop their origin access control, S3 and VPC-origin settings, so GetDistribution loses them")
