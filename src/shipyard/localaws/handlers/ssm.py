"""AWS::SSM::Parameter: moto models it, but reads the template's Tags map as a list
and fails; this handler hands moto's own model the tags in the API's shape."""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ssm.models import Parameter

from shipyard.localaws.handlers._base import Handler


def _api_shape(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    fixed = copy.deepcopy(cloudformation_json)
    tags = fixed.get("Properties", {}).get("Tags")
    if isinstance(tags, dict):
        fixed["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return fixed


class SsmParameter(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SSM::Parameter"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return Parameter.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return Parameter.create_from_cloudformation_json(resource_name, _api_shape(cloudformation_json), account_id,
                                                         region_name, **kwargs)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return Parameter.update_from_cloudformation_json(original_resource, new_resource_name,
                                                         _api_shape(cloudformation_json), account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        return Parameter.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)
