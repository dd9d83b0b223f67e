"""AWS::ECR::Repository: moto's model reads ImageScanningConfiguration and
EncryptionConfiguration in the API's camelCase while templates use PascalCase,
so scan on push was silently lost; this handler passes them in moto's shape."""

from __future__ import annotations

import copy
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.ecr.models import Repository

from shipyard.localaws.handlers._base import Delegate


class EcrRepository(Delegate, CloudFormationModel):
    MODEL = Repository

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ECR::Repository"

    @classmethod
    def adapt(cls, cloudformation_json: dict[str, Any]) -> dict[str, Any]:
        fixed = copy.deepcopy(cloudformation_json)
        props = fixed.setdefault("Properties", {})
        for key in ("ImageScanningConfiguration", "EncryptionConfiguration"):
            if key in props:
                props[key] = {k[0].lower() + k[1:]: v for k, v in props[key].items()}
        return fixed
