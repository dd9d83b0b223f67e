"""CloudWatch Logs corrections: Live Tail streams what is ingested after the session starts."""

from __future__ import annotations

import uuid
from typing import Any

from shipyard.localaws.core.base import patch


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
