"""AWS::ECR::Repository: moto's model reads ImageScanningConfiguration and
EncryptionConfiguration in the API's camelCase while templates use PascalCase,
so scan on push was silently lost; this handler passes them in moto's shape."""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ecr.models import Repository

from shipyard.localaws.handlers._base import Handler


def _api_shape(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    fixed = copy.deepcopy(cloudformation_json)
    props = fixed.setdefault("Properties", {})
    for key in ("ImageScanningConfiguration", "EncryptionConfiguration"):
        if key in props:
            props[key] = {k[0].lower() + k[1:]: v for k, v in props[key].items()}
    return fixed


class EcrRepository(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "RepositoryName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECR::Repository"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return Repository.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        return Repository.create_from_cloudformation_json(resource_name, _api_shape(cloudformation_json), account_id,
                                                          region_name, **kwargs)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return Repository.update_from_cloudformation_json(original_resource, new_resource_name,
                                                          _api_shape(cloudformation_json), account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        return Repository.delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)
