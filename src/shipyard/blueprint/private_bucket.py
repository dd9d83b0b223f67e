"""The one definition of a private bucket: the security defaults every bucket of the platform shares."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(scope: Construct, id: str, *, bucket_name: str, lifecycle_rules: list[s3.LifecycleRule], retain: bool,
                   versioned: bool = False) -> s3.Bucket:
    """All public access blocked, no ACLs (owner enforced), SSE-S3, TLS-only policy, retained where protected."""
    return s3.Bucket(
        scope, id,
        bucket_name=bucket_name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        # SSE-S3 rather than KMS: load balancer log delivery supports only SSE-S3, and CloudFront OAC reads it unassisted.
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=versioned,
        lifecycle_rules=lifecycle_rules,
        removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
    )
