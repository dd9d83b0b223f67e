"""AWS::WAFv2::WebACL into moto's WAFv2 backend (CLOUDFRONT scope lives in its global region)."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.wafv2.models import GLOBAL_REGION, wafv2_backends

from shipyard.localaws.services._base import Handler, properties, tags_list


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
        backend.delete_web_acl(self.name, self.scope, self.acl_id, lock_token="")
