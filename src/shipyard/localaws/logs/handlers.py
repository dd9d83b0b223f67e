"""CloudWatch Logs: the log deliveries CloudFormation makes (AWS::Logs::DeliverySource, ::DeliveryDestination,
::Delivery, into moto's backend), and the correction that Live Tail streams what is ingested after it starts."""

from __future__ import annotations

import uuid
from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import logs_backends

from shipyard.localaws.core.base import Delegate, Handler, patch, properties


def _tags(props: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in props.get("Tags", []) or []}


class _Named(Handler):
    """A log delivery resource known by its name (its Ref), with its ARN."""

    ATTRIBUTES = ("Arn",)

    def __init__(self, name: str, arn: str) -> None:
        self.physical_id, self.attributes = name, {"Arn": arn}


class LogGroup(Delegate, CloudFormationModel):
    """moto's log group, updated in place as CloudWatch Logs does: moto has no update, so a stack update that changes
    a group's retention or tags loses it from its stack. LogGroupName is set at creation only: a new name replaces it."""

    MODEL = MotoLogGroup

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::LogGroup"

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        props = properties(cloudformation_json)
        if props.get("LogGroupName", original_resource.name) != original_resource.name:
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)
        backend = logs_backends[account_id][region_name]
        if props.get("RetentionInDays") is not None:
            backend.put_retention_policy(original_resource.name, props["RetentionInDays"])
        else:
            backend.delete_retention_policy(original_resource.name)
        if props.get("Tags"):
            backend.tag_log_group(original_resource.name, _tags(props))
        original_resource.kms_key_id = props.get("KmsKeyId")
        return original_resource


class DeliverySource(_Named, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::DeliverySource"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        source = logs_backends[account_id][region_name].put_delivery_source(p["Name"], p["ResourceArn"], p["LogType"], _tags(p))
        return cls(source.name, source.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        logs_backends[account_id][region_name].delete_delivery_source(self.physical_id)


class DeliveryDestination(_Named, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::DeliveryDestination"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        destination = logs_backends[account_id][region_name].put_delivery_destination(
            p["Name"], p.get("OutputFormat"), {"destinationResourceArn": p["DestinationResourceArn"]}, _tags(p))
        return cls(destination.name, destination.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        logs_backends[account_id][region_name].delete_delivery_destination(self.physical_id)


class Delivery(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn", "DeliveryId")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::Delivery"

    def __init__(self, delivery_id: str, arn: str) -> None:
        self.physical_id, self.attributes = delivery_id, {"Arn": arn, "DeliveryId": delivery_id}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        delivery = logs_backends[account_id][region_name].create_delivery(
            p["DeliverySourceName"], p["DeliveryDestinationArn"], p.get("RecordFields"), p.get("FieldDelimiter"),
            p.get("S3DeliveryConfiguration"), _tags(p))
        return cls(delivery.id, delivery.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        logs_backends[account_id][region_name].delete_delivery(self.physical_id)


def _start_live_tail(self: Any) -> Any:
    """StartLiveTail sends a session start and then, every second, the events ingested since (API reference,
    StartLiveTail). The embedded AWS cannot hold the response stream open, so it sends what AWS would in the first
    second (the start and an update with nothing new yet) and closes it; clients see a session that ended early."""
    from moto.core.responses import ActionResult

    groups = self._get_param("logGroupIdentifiers") or []
    start = {"requestId": str(uuid.uuid4()), "sessionId": f"local-live-tail-{uuid.uuid4().hex[:12]}",
             "logGroupIdentifiers": groups, "logStreamNames": self._get_param("logStreamNames") or [],
             "logStreamNamePrefixes": self._get_param("logStreamNamePrefixes") or [],
             "logEventFilterPattern": self._get_param("logEventFilterPattern") or ""}
    update = {"sessionMetadata": {"sampled": False}, "sessionResults": []}
    return ActionResult({"responseStream": [{"sessionStart": start}, {"sessionUpdate": update}]})


def install() -> None:
    from moto.logs.responses import LogsResponse

    patch(LogsResponse, "start_live_tail", _start_live_tail,
          corrects="StartLiveTail answers with every event the group ever had, instead of those ingested after it starts")
