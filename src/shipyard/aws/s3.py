"""S3: the site bucket (objects, access settings, policy) and the bucket that carries large templates."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import AwsError, ServiceApi

_BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


@dataclass(frozen=True)
class Grant:
    grantee: str  # the canonical user id, or the group URI
    is_owner: bool


class S3(ServiceApi):
    service = "s3"

    def encryption(self, bucket: str) -> dict[str, Any] | None:
        """The bucket's default encryption (ServerSideEncryptionConfiguration), None where none is set."""
        found = self._found("GetBucketEncryption", Bucket=bucket)
        return None if found is None else found.get("ServerSideEncryptionConfiguration")

    def exists(self, bucket: str) -> bool:
        return self._found("HeadBucket", Bucket=bucket) is not None

    def create_private_bucket(self, bucket: str) -> None:
        arguments = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self._call("CreateBucket", Bucket=bucket, **arguments)
        self._call("PutPublicAccessBlock", Bucket=bucket, PublicAccessBlockConfiguration=dict(_BLOCK_ALL))

    def put_object(self, bucket: str, key: str, body: bytes, *, content_type: str, cache_control: str | None = None) -> None:
        extra = {"CacheControl": cache_control} if cache_control else {}
        self._call("PutObject", Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)

    def etags(self, bucket: str) -> dict[str, str]:
        """Every object's key and ETag (the MD5 of a single-part upload)."""
        return {o["Key"]: o["ETag"] for o in self._pages("ListObjectsV2", "Contents", Bucket=bucket)}

    def versions(self, bucket: str) -> list[tuple[str, str]]:
        """(key, version id) of every object version and delete marker."""
        answer = self._call("ListObjectVersions", Bucket=bucket)
        return [(v["Key"], v["VersionId"]) for v in answer.get("Versions", []) + answer.get("DeleteMarkers", [])]

    def delete(self, bucket: str, objects: Iterable[str | tuple[str, str]]) -> None:
        """Delete keys (or (key, version) pairs), a thousand per request."""
        entries = [{"Key": o} if isinstance(o, str) else {"Key": o[0], "VersionId": o[1]} for o in objects]
        for start in range(0, len(entries), 1000):
            self._call("DeleteObjects", Bucket=bucket, Delete={"Objects": entries[start:start + 1000], "Quiet": True})

    def public_access_block(self, bucket: str) -> dict[str, bool]:
        """The four settings; all False where the bucket has no public access block."""
        try:
            return self._call("GetPublicAccessBlock", Bucket=bucket)["PublicAccessBlockConfiguration"]
        except AwsError as exc:
            if exc.code != "NoSuchPublicAccessBlockConfiguration":
                raise
        return {key: False for key in _BLOCK_ALL}

    def grants(self, bucket: str) -> list[Grant]:
        acl = self._call("GetBucketAcl", Bucket=bucket)
        owner = acl["Owner"].get("ID")
        return [Grant(g["Grantee"].get("URI") or g["Grantee"].get("ID", "?"), g["Grantee"].get("ID") == owner)
                for g in acl.get("Grants", [])]

    def policy(self, bucket: str) -> dict[str, Any] | None:
        answer = self._found("GetBucketPolicy", Bucket=bucket)
        return json.loads(answer["Policy"]) if answer else None
