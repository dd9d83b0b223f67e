"""AWS::SSM::Parameter: moto models it, but reads the template's Tags map as a list
and fails; this handler hands moto's own model the tags in the API's shape."""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ssm.models import Parameter

from shipyard.localaws.core.base import Delegate


class SsmParameter(Delegate, CloudFormationModel):
    MODEL = Parameter

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SSM::Parameter"

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        fixed = copy.deepcopy(cloudformation_json)
        tags = fixed.get("Properties", {}).get("Tags")
        if isinstance(tags, dict):
            fixed["Properties"]["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        return fixed
