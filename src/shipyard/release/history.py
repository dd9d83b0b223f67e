"""Each environment's release history, in SSM Parameter Store; the last released digest is the last known good."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from shipyard.aws import Aws
from shipyard.config import Environment

# A standard SSM parameter holds 4 KB: keep the newest records that fit.
_LIMIT = 4096


@dataclass(frozen=True)
class ReleaseRecord:
    digest: str
    time: float
    verdict: str  # released | failed | rolled-back
    kind: str = "release"  # release | promote | rollback
    commit: str = ""
    actor: str = ""
    note: str = ""  # --allow-vulnerable / --override-budget reasons, failure summary
    schema: str = ""  # the schema version the release's migrations reported
    contracts: tuple[str, ...] = ()  # contract migrations this release applied (release/migrations.py)


def read(aws: Aws, env: Environment) -> list[ReleaseRecord]:
    """Newest first."""
    value = aws.parameter(env.names.release_history_parameter, env.region)
    return [ReleaseRecord(**{**entry, "contracts": tuple(entry.get("contracts", ()))}) for entry in json.loads(value)] if value else []


def append(aws: Aws, env: Environment, record: ReleaseRecord) -> None:
    records = [record, *read(aws, env)]
    while True:
        text = json.dumps([asdict(r) for r in records], separators=(",", ":"))
        if len(text.encode()) <= _LIMIT or len(records) == 1:
            break
        records.pop()
    aws.call("ssm", "PutParameter", env.region, Name=env.names.release_history_parameter, Value=text, Type="String",
             Overwrite=True, Description=f"shipyard release history of {env.name} (newest first)")


def last_known_good(records: list[ReleaseRecord]) -> ReleaseRecord | None:
    return next((r for r in records if r.verdict == "released"), None)


def good_digests(records: list[ReleaseRecord]) -> list[str]:
    """Distinct released digests, newest first."""
    seen: list[str] = []
    for record in records:
        if record.verdict == "released" and record.digest not in seen:
            seen.append(record.digest)
    return seen


def now() -> float:
    return time.time()
