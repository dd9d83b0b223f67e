"""CloudWatch Logs: the service's events (filtered, a task's own stream, Live Tail) and the log group's ARN."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shipyard.aws.session import AwsError, ServiceApi


@dataclass(frozen=True)
class RawEvent:
    timestamp: int  # milliseconds since the epoch
    stream: str
    message: str
    event_id: str = ""


@dataclass(frozen=True)
class StreamPage:
    events: tuple[RawEvent, ...]
    next_token: str | None  # where the next read starts (GetLogEvents' nextForwardToken)


class LiveTailEnded(Exception):
    """A Live Tail session ended: `timed_out` when AWS closed it after its three hours, else why it failed."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


@dataclass(frozen=True)
class LogDelivery:
    source: str  # the delivery source's name
    destination: str  # the ARN its delivery writes to (a log group, a bucket, a stream)


class Logs(ServiceApi):
    service = "logs"

    def filter(self, group: str, *, stream_prefix: str, start_ms: int, pattern: str | None = None) -> list[RawEvent] | None:
        """Every event of the group's streams under `stream_prefix` since `start_ms`; None when the group does not exist."""
        request: dict[str, Any] = {"logGroupName": group, "logStreamNamePrefix": stream_prefix, "startTime": start_ms}
        if pattern:
            request["filterPattern"] = pattern
        try:
            raw = self._pages("FilterLogEvents", "events", **request)
        except AwsError as exc:
            if exc.not_found:
                return None
            raise
        return [_event(e) for e in raw]

    def stream(self, group: str, stream: str, *, token: str | None = None, from_head: bool = True,
               limit: int | None = None) -> StreamPage | None:
        """One page of a stream (forward from `token`, or the newest `limit` events); None while the stream does not exist."""
        request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": from_head}
        if token:
            request["nextToken"] = token
        if limit:
            request["limit"] = limit
        answer = self._found("GetLogEvents", **request)
        if answer is None:
            return None
        return StreamPage(tuple(_event({**e, "logStreamName": stream}) for e in answer.get("events", [])),
                          answer.get("nextForwardToken") or token)

    def group_kms_key(self, group: str) -> str | None:
        """The KMS key a log group is encrypted with, None where CloudWatch Logs' own encryption applies."""
        return (self._group(group) or {}).get("kmsKeyId")

    def group_arn(self, group: str) -> str | None:
        found = self._group(group)
        return found["arn"].removesuffix(":*") if found else None

    def _group(self, group: str) -> dict[str, Any] | None:
        listed = self._call("DescribeLogGroups", logGroupNamePrefix=group)["logGroups"]
        return next((g for g in listed if g["logGroupName"] == group), None)

    def deliveries_of(self, resource_arn: str) -> list[LogDelivery]:
        """The log deliveries of a resource (CloudFront's standard logging v2, say), each with where it writes."""
        sources = {s["name"] for s in self._pages("DescribeDeliverySources", "deliverySources") if resource_arn in s.get("resourceArns", [])}
        destinations = {d["arn"]: d.get("deliveryDestinationConfiguration", {}).get("destinationResourceArn", "")
                        for d in self._pages("DescribeDeliveryDestinations", "deliveryDestinations")}
        return [LogDelivery(d["deliverySourceName"], destinations.get(d["deliveryDestinationArn"], ""))
                for d in self._pages("DescribeDeliveries", "deliveries") if d.get("deliverySourceName") in sources]

    def live_tail(self, group_arn: str, *, stream_prefix: str, pattern: str | None = None) -> Iterator[RawEvent]:
        """Events as they arrive (StartLiveTail's response stream) until the session ends (LiveTailEnded)."""
        from botocore.exceptions import EventStreamError

        request: dict[str, Any] = {"logGroupIdentifiers": [group_arn], "logStreamNamePrefixes": [stream_prefix]}
        if pattern:
            request["logEventFilterPattern"] = pattern
        try:
            stream = self._call("StartLiveTail", **request)["responseStream"]
        except (AwsError, KeyError) as exc:  # the endpoint does not offer Live Tail, or refused it
            raise LiveTailEnded(str(exc).splitlines()[0][:120]) from None
        try:
            for update in stream:
                for raw in (update.get("sessionUpdate") or {}).get("sessionResults", []):
                    yield _event(raw)
        except EventStreamError as exc:
            code = exc.response.get("Error", {}).get("Code")
            raise LiveTailEnded(str(exc)[:120], timed_out=code == "SessionTimeoutException") from None
        raise LiveTailEnded("the session closed")


def _event(raw: dict[str, Any]) -> RawEvent:
    return RawEvent(int(raw["timestamp"]), raw.get("logStreamName", ""), raw["message"].rstrip("\n"), raw.get("eventId", ""))
