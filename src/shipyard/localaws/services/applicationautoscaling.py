"""AWS::ApplicationAutoScaling::ScalableTarget and ::ScalingPolicy into moto's backend."""

from __future__ import annotations

import contextlib

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.common_models import CloudFormationModel

from shipyard.localaws.services._base import Handler, properties


class ScalableTarget(Handler, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    def __init__(self, namespace: str, resource_id: str, dimension: str) -> None:
        self.namespace, self.resource_id, self.dimension = namespace, resource_id, dimension
        # The same "resource|dimension|namespace" identifier CloudFormation returns.
        self.physical_id = f"{resource_id}|{dimension}|{namespace}"
        self.attributes = {"Id": self.physical_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        applicationautoscaling_backends[account_id][region_name].register_scalable_target(
            namespace=props["ServiceNamespace"], r_id=props["ResourceId"], dimension=props["ScalableDimension"],
            min_capacity=int(props["MinCapacity"]), max_capacity=int(props["MaxCapacity"]),
            role_arn=props.get("RoleARN", ""), suspended_state=props.get("SuspendedState"),
        )
        return cls(props["ServiceNamespace"], props["ResourceId"], props["ScalableDimension"])

    def delete(self, account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        if backend.targets.get(self.dimension, {}).get(self.resource_id):
            backend.deregister_scalable_target(self.namespace, self.resource_id, self.dimension)


class ScalingPolicy(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    def __init__(self, arn: str, name: str, namespace: str, resource_id: str, dimension: str) -> None:
        self.physical_id = arn
        self.name, self.namespace, self.resource_id, self.dimension = name, namespace, resource_id, dimension
        self.attributes = {"Arn": arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        props = properties(cloudformation_json)
        if "ScalingTargetId" in props:
            resource_id, dimension, namespace = props["ScalingTargetId"].split("|")
        else:
            resource_id, dimension, namespace = props["ResourceId"], props["ScalableDimension"], props["ServiceNamespace"]
        policy = applicationautoscaling_backends[account_id][region_name].put_scaling_policy(
            policy_name=props["PolicyName"], service_namespace=namespace, resource_id=resource_id,
            scalable_dimension=dimension, policy_type=props["PolicyType"],
            policy_body=props.get("TargetTrackingScalingPolicyConfiguration") or props.get("StepScalingPolicyConfiguration"),
        )
        return cls(policy.policy_arn, props["PolicyName"], namespace, resource_id, dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = applicationautoscaling_backends[account_id][region_name]
        # The policy may already be gone with its scalable target.
        with contextlib.suppress(Exception):
            backend.delete_scaling_policy(self.name, self.namespace, self.resource_id, self.dimension)
