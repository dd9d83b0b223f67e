"""CloudWatch alarms: their states, read by the release guards, the wake wait and status, and their actions, read by
verify."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.aws.session import ServiceApi


@dataclass(frozen=True)
class Alarm:
    name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    description: str = ""
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()

    @property
    def firing(self) -> bool:
        return self.state == "ALARM"


class CloudWatch(ServiceApi):
    service = "cloudwatch"

    def alarms(self, names: list[str]) -> list[Alarm]:
        return self._described(AlarmNames=names) if names else []

    def firing(self) -> list[Alarm]:
        """Every metric alarm of the region in ALARM."""
        return self._described(StateValue="ALARM")

    def alarms_named(self, prefix: str) -> list[Alarm]:
        """Every metric and composite alarm whose name starts with prefix."""
        return self._described(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"])

    def _described(self, **which: object) -> list[Alarm]:
        return [Alarm(a["AlarmName"], a.get("StateValue", ""), a.get("AlarmDescription", ""), a.get("ActionsEnabled", True),
                      tuple(a.get("AlarmActions", [])))
                for a in self._pages("DescribeAlarms", ("MetricAlarms", "CompositeAlarms"), **which)]
