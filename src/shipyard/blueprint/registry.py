"""This environment's own ECR repository."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct


class Registry(Construct):
    def __init__(self, scope: Construct, id: str, *, repository_name: str, keep_images: int, retain: bool,
                 pull_roles: tuple[tuple[str, str], ...] = ()) -> None:
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
        if pull_roles:
            # The next environment's deploy role promotes this one's images by copying them: it may read, never
            # write. The principal is its account, narrowed to that role by aws:PrincipalArn: a role ARN as the
            # principal would have to exist when this stack deploys, and the next environment deploys later.
            self.repository.add_to_resource_policy(iam.PolicyStatement(
                sid="PromotionTargetsPull",
                principals=[iam.AccountPrincipal(account) for account, _ in pull_roles],
                actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability",
                         "ecr:DescribeImages", "ecr:DescribeImageScanFindings"],
                conditions={"ArnEquals": {"aws:PrincipalArn": [f"arn:aws:iam::{account}:role/{role}" for account, role in pull_roles]}},
            ))
