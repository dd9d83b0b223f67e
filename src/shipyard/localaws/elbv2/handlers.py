"""Elastic Load Balancing v2 in the embedded AWS (patches only; moto's own CloudFormation models serve the types).

Target health comes from the real health checks of the service's task processes (rollout.py), and the
load balancer and target group report the full names CloudWatch uses as metric dimensions.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.elbv2.exceptions import ELBClientError
from moto.elbv2.models import ELBv2Backend, FakeListener, FakeListenerRule, FakeLoadBalancer, FakeTargetGroup, elbv2_backends

from shipyard.localaws.core.base import patch, wrap


def _describe_target_health(original: Any) -> Any:
    @functools.wraps(original)
    def wrapper(self: Any, target_group_arn: str, targets: list[dict[str, Any]]) -> Any:
        from moto.elbv2.models import FakeHealthStatus

        from shipyard.localaws.ecs import rollout

        checked = rollout.target_health(self.account_id, self.region_name, target_group_arn)
        if checked is None:
            return original(self, target_group_arn, targets)
        return [FakeHealthStatus(h["Target"]["Id"], h["Target"]["Port"], h["HealthCheckPort"], h["TargetHealth"]["State"],
                                 h["TargetHealth"].get("Reason"), h["TargetHealth"].get("Description")) for h in checked]

    return wrapper

def _create_listener(original: Any) -> Any:
    """An HTTPS listener needs exactly one default certificate, and an ACM one must exist in the load balancer's region
    (API reference, CreateListener: Certificates; errors CertificateNotFound)."""

    @functools.wraps(original)
    def wrapper(self: Any, load_balancer_arn: str, protocol: str, port: str, ssl_policy: str, certificate: str | None,
                *args: Any, **kwargs: Any) -> Any:
        if protocol in ("HTTPS", "TLS") and not certificate:
            raise ELBClientError("InvalidConfigurationRequest",
                            "You must provide a list containing exactly one certificate if the listener protocol is HTTPS.")
        if certificate and ":acm:" in certificate and not self._certificate_exists(certificate_arn=certificate):
            raise ELBClientError("CertificateNotFound", f"Certificate {certificate} not found")
        return original(self, load_balancer_arn, protocol, port, ssl_policy, certificate, *args, **kwargs)

    return wrapper


def _no_attribute(self: Any, attribute_name: str) -> Any:
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()

def _elb_attributes(original: Any) -> Any:
    """The full names CloudWatch metrics use as dimensions, which moto leaves unimplemented."""

    @functools.wraps(original)
    def wrapper(self: Any, attribute_name: str) -> Any:
        arn = getattr(self, "arn", "")
        if attribute_name in ("LoadBalancerFullName", "TargetGroupFullName"):
            return arn.split(":", 5)[5].split("/", 1)[1] if attribute_name == "LoadBalancerFullName" else arn.split(":", 5)[5]
        if attribute_name == "SecurityGroups":
            return list(getattr(self, "security_groups", []))
        if attribute_name == "CanonicalHostedZoneID":
            return "Z32O12XQLNTSW2"
        return original(self, attribute_name)

    return wrapper


def _with_settings(original: Any, attributes_key: str | None) -> Any:
    """Create (or update) through moto's model, then apply the attributes and tags moto's model ignores."""

    def apply(cls: Any, *args: Any, **kwargs: Any) -> Any:
        resource = original(*args, **kwargs)
        # CloudFormation's parser creates with positional arguments and updates with keywords.
        cloudformation_json = kwargs.get("cloudformation_json") or next(a for a in args if isinstance(a, dict))
        account_id, region_name = (kwargs["account_id"], kwargs["region_name"]) if "account_id" in kwargs else (args[-2], args[-1])
        props = cloudformation_json.get("Properties", {})
        backend = elbv2_backends[account_id][region_name]
        arn = resource.arn
        settings = {a["Key"]: str(a["Value"]) for a in props.get(attributes_key, [])} if attributes_key else {}
        if settings and isinstance(resource, FakeLoadBalancer):
            backend.modify_load_balancer_attributes(arn, settings)
        elif settings:
            backend.modify_target_group_attributes(arn, settings)
        if props.get("Tags"):
            backend.add_tags([arn], [{"Key": t["Key"], "Value": t["Value"]} for t in props["Tags"]])
        return resource

    return classmethod(apply)


def _update_target_group(cls: Any, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
                         account_id: str, region_name: str) -> Any:
    """A target group's health check, attributes and tags change in place; a new Port, Protocol or VpcId (among others)
    would replace it (CloudFormation user guide, AWS::ElasticLoadBalancingV2::TargetGroup, "Update requires"). moto's model has no
    update at all, which emptied every reference to the group: a rule updated beside it lost its target group (a
    preview's redeploy, whose tags change every time)."""
    props = cloudformation_json.get("Properties", {})
    backend = elbv2_backends[account_id][region_name]
    if any(key in props and str(props[key]) != str(getattr(original_resource, attribute, None))
           for key, attribute in (("Port", "port"), ("Protocol", "protocol"), ("VpcId", "vpc_id"))):
        raise ValueError(f"{original_resource.name}: a change of Port, Protocol or VpcId replaces a target group, which the embedded AWS does not do")
    matcher = props.get("Matcher") or {}
    backend.modify_target_group(original_resource.arn, health_check_path=props.get("HealthCheckPath"),
                                health_check_interval=props.get("HealthCheckIntervalSeconds"),
                                health_check_timeout=props.get("HealthCheckTimeoutSeconds"),
                                healthy_threshold_count=props.get("HealthyThresholdCount"),
                                unhealthy_threshold_count=props.get("UnhealthyThresholdCount"), http_codes=matcher.get("HttpCode"))
    return original_resource


def install() -> None:
    patch(FakeTargetGroup, "update_from_cloudformation_json", classmethod(_update_target_group),
          corrects="a target group has no CloudFormation update: every reference to it became empty")
    for model, key in ((FakeLoadBalancer, "LoadBalancerAttributes"), (FakeTargetGroup, "TargetGroupAttributes"), (FakeListener, None),
                       (FakeListenerRule, None)):
        for verb in ("create_from_cloudformation_json", "update_from_cloudformation_json"):
            if verb in vars(model):
                patch(model, verb, _with_settings(getattr(model, verb), key),
                      corrects=f"{model.__name__}: a template's {key or 'settings'} and Tags are not applied")
    wrap(ELBv2Backend, "create_listener", _create_listener,
         corrects="an HTTPS listener is created without a certificate, or with one ACM does not have")
    wrap(ELBv2Backend, "describe_target_health", _describe_target_health,
         corrects="targets of ECS tasks are unknown to moto; their health comes from the health checks rollout.py runs")
    wrap(FakeLoadBalancer, "get_cfn_attribute", _elb_attributes,
         corrects="Fn::GetAtt LoadBalancerFullName, SecurityGroups and CanonicalHostedZoneID are unimplemented")
    patch(FakeTargetGroup, "get_cfn_attribute", _elb_attributes(_no_attribute),
          corrects="Fn::GetAtt TargetGroupFullName is unimplemented")
    # A stack's deletion deletes its rules and target groups (a target group a rule still uses is refused, as
    # DeleteTargetGroup refuses it: ResourceInUse).
    patch(FakeListenerRule, "delete", lambda self, account_id, region: elbv2_backends[account_id][region].delete_rule(self.arn),
          corrects="a deleted stack's listener rules stay on the listener")
    patch(FakeTargetGroup, "delete",
          lambda self, account_id, region: elbv2_backends[account_id][region].delete_target_group(self.arn),
          corrects="a deleted stack's target groups stay")
