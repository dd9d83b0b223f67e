"""shipyard's CloudFormation handlers for the embedded AWS.

Importing this package defines the handler classes, which registers them with
moto's CloudFormation (it finds models through CloudFormationModel.__subclasses__()).
"""

from shipyard.localaws.handlers import (
    applicationautoscaling,
    budgets,
    cloudfront,
    cloudwatch,
    ec2,
    ecr,
    ecs,
    iam,
    s3,
    sns,
    ssm,
    wafv2,
)

MODULES = (applicationautoscaling, budgets, cloudfront, cloudwatch, ec2, ecr, ecs, iam, s3, sns, ssm, wafv2)
