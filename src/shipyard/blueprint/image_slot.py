"""The SSM parameter that holds the environment's released image: `shipyard release` writes it, the task definition reads it."""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct

from shipyard import naming


class ImageSlot(Construct):
    def __init__(self, scope: Construct, id: str, *, parameter_name: str, description: str, logical_id: str) -> None:
        super().__init__(scope, id)
        # CloudFormation never rewrites the released value: this template's value never changes.
        self.parameter = ssm.StringParameter(self, "Parameter", parameter_name=parameter_name, string_value=naming.NO_IMAGE,
                                             description=description)
        # Deployed stacks know the parameter by this id; a new id would make CloudFormation
        # create a second parameter of the same name, which fails.
        self.parameter.node.default_child.override_logical_id(logical_id)
