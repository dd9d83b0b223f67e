"""AWS::WAFv2::WebACL into moto's WAFv2 backend (CLOUDFRONT scope lives in its global region)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.wafv2.models import GLOBAL_REGION, wafv2_backends

from shipyard.localaws.core.base import Handler, properties, tags_list


class WebACL(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn", "Id", "LabelNamespace", "Capacity")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::WAFv2::WebACL"

    def __init__(self, name: str, acl_id: str, arn: str, scope: str, region: str) -> None:
        self.name, self.acl_id, self.scope, self.region = name, acl_id, scope, region
        self.physical_id = f"{name}|{acl_id}|{scope}"
        self.attributes = {"Arn": arn, "Id": acl_id, "LabelNamespace": f"awswaf:managed:{name}:", "Capacity": 0}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        scope = props["Scope"]
        region = GLOBAL_REGION if scope == "CLOUDFRONT" else region_name
        acl = wafv2_backends[account_id][region].create_web_acl(
            name=props.get("Name", resource_name), visibility_config=props["VisibilityConfig"],
            default_action=props["DefaultAction"], scope=scope, description=props.get("Description", ""),
            tags=tags_list(props), rules=props.get("Rules", []), association_config=None, captcha_config=None,
            challenge_config=None, custom_response_bodies=None, token_domains=None,
        )
        return cls(acl.name, acl.id, acl.arn, scope, region)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = wafv2_backends[account_id][self.region]
        # CloudFormation reads the ACL's current lock token before it deletes it.
        current = next(w for w in backend.wacls.values() if w.name == self.name and w.id == self.acl_id)
        backend.delete_web_acl(self.name, self.scope, self.acl_id, lock_token=current.lock_token)


class LoggingConfiguration(Handler, CloudFormationModel):
    """AWS::WAFv2::LoggingConfiguration into moto's WAFv2 backend; GetLoggingConfiguration reads it back."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::WAFv2::LoggingConfiguration"

    def __init__(self, arn: str, region: str) -> None:
        self.arn, self.region = arn, region
        self.physical_id = arn
        self.attributes = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        arn = props["ResourceArn"]
        # The logging API of a CLOUDFRONT web ACL is called in us-east-1, the stack's region, not moto's "global".
        wafv2_backends[account_id][region_name].put_logging_configuration(
            arn, props["LogDestinationConfigs"], props.get("RedactedFields"), False, props.get("LoggingFilter"))
        return cls(arn, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        wafv2_backends[account_id][self.region].delete_logging_configuration(self.arn)
