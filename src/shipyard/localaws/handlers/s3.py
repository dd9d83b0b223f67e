"""AWS::S3::BucketPolicy into moto's S3 backend."""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from shipyard.localaws.handlers._base import Handler, properties


class BucketPolicy(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    def __init__(self, bucket: str) -> None:
        self.physical_id = bucket
        self.attributes: dict[str, Any] = {}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        backend = s3_backends[account_id][get_partition(region_name)]
        backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
        policy = cls(props["Bucket"])
        policy.partition = get_partition(region_name)
        return policy

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[account_id][get_partition(region_name)]
        if self.physical_id in backend.buckets:
            backend.delete_bucket_policy(self.physical_id)
