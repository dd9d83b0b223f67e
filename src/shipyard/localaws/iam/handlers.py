"""AWS::IAM::OIDCProvider into moto's IAM backend."""

from __future__ import annotations

from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from shipyard.localaws.core.base import Handler, properties, tags_list


class OIDCProvider(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::OIDCProvider"

    def __init__(self, arn: str) -> None:
        self.physical_id = arn
        self.attributes = {"Arn": arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = iam_backends[account_id][get_partition(region_name)]
        provider = backend.create_open_id_connect_provider(
            url=props["Url"], thumbprint_list=props.get("ThumbprintList", []),
            client_id_list=props.get("ClientIdList", []), tags=tags_list(props),
        )
        return cls(provider.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(self.physical_id)
