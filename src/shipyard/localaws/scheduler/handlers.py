"""EventBridge Scheduler: AWS::Scheduler::Schedule into moto's Scheduler backend (moto's CloudFormation skips it), and
schedules that fire (clock.py says when, at the embedded AWS's pace)."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import CloudFormationModel
from moto.scheduler.models import scheduler_backends

from shipyard.localaws.core.base import Handler, properties
from shipyard.localaws.scheduler import clock, fire


class Schedule(Handler, CloudFormationModel):
    ATTRIBUTES = ("Arn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    def __init__(self, schedule: Any) -> None:
        self.physical_id = schedule.name
        self.group = schedule.group_name
        self.attributes = {"Arn": schedule.arn}

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = properties(cloudformation_json)
        problem = clock.problem(p["ScheduleExpression"])
        if problem:  # refused, as Scheduler refuses what it cannot evaluate; never a schedule that silently never fires
            raise ValueError(problem)
        backend = scheduler_backends[account_id][region_name]
        schedule = backend.create_schedule(
            description=p.get("Description", ""), end_date=p.get("EndDate"), flexible_time_window=p["FlexibleTimeWindow"],
            group_name=p.get("GroupName"), kms_key_arn=p.get("KmsKeyArn"), name=p.get("Name") or resource_name,
            schedule_expression=p["ScheduleExpression"], schedule_expression_timezone=p.get("ScheduleExpressionTimezone", "UTC"),
            start_date=p.get("StartDate"), state=p.get("State", "ENABLED"), target=p["Target"], action_after_completion=None)
        fire.ensure_running()
        return cls(schedule)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = scheduler_backends[account_id][region_name]
        group = backend.schedule_groups.get(self.group or "default")
        if group is not None and self.physical_id in group.schedules:
            backend.delete_schedule(self.group, self.physical_id)


def reset() -> None:
    fire.reset()
