"""This environment's own ECR repository."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct


class Registry(Construct):
    def __init__(self, scope: Construct, id: str, *, repository_name: str, keep_images: int, retain: bool,
                 pull_accounts: tuple[str, ...] = ()) -> None:
        super().__init__(scope, id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=repository_name,
            # Releases name images by digest; immutable tags stop a re-push from
            # silently changing what a tag (a commit SHA) means.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            image_scan_on_push=True,
            encryption=ecr.RepositoryEncryption.AES_256,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Expire untagged layers a day after they lose their tag",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(1),
                    rule_priority=1,
                ),
                ecr.LifecycleRule(
                    description=f"Keep the last {keep_images} images (release history and rollback targets)",
                    tag_status=ecr.TagStatus.ANY,
                    max_image_count=keep_images,
                    rule_priority=2,
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
            empty_on_delete=not retain,
        )
        if pull_accounts:
            # The next environment promotes this one's images by copying them: it may read, never write.
            self.repository.add_to_resource_policy(iam.PolicyStatement(
                sid="PromotionTargetsPull",
                principals=[iam.AccountPrincipal(account) for account in pull_accounts],
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                         "ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
            ))
