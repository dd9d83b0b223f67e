"""Each environment's release history, in SSM Parameter Store; the last released digest is the last known good."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

from shipyard.aws import Aws
from shipyard.config import Environment
from shipyard.release.attempt import Kind, Verdict

# A standard SSM parameter holds 4 KB: keep the newest records that fit.
_LIMIT = 4096


@dataclass(frozen=True)
class ReleaseRecord:
    digest: str
    time: float
    verdict: Verdict
    kind: Kind = Kind.RELEASE
    commit: str = ""
    actor: str = ""
    note: str = ""  # --allow-vulnerable / --override-budget reasons, failure summary
    schema: str = ""  # the schema version the release's migrations reported
    contracts: tuple[str, ...] = ()  # contract migrations this release applied (release/migrations.py)
    workloads: dict[str, str] = field(default_factory=dict)  # the rest of the set: web workload name -> digest


def read(aws: Aws, env: Environment) -> list[ReleaseRecord]:
    """Newest first."""
    value = aws.ssm(env.region).get(env.names.release_history_parameter)
    return [ReleaseRecord(**{**entry, "verdict": Verdict(entry["verdict"]), "kind": Kind(entry.get("kind", Kind.RELEASE)),
                             "contracts": tuple(entry.get("contracts", ()))}) for entry in json.loads(value)] if value else []


def append(aws: Aws, env: Environment, record: ReleaseRecord) -> None:
    records = [record, *read(aws, env)]
    while True:
        text = json.dumps([asdict(r) for r in records], separators=(",", ":"))
        if len(text.encode()) <= _LIMIT or len(records) == 1:
            break
        records.pop()
    aws.ssm(env.region).put(env.names.release_history_parameter, text, description=f"shipyard release history of {env.name} (newest first)")


def last_known_good(records: list[ReleaseRecord]) -> ReleaseRecord | None:
    return next((r for r in records if r.verdict is Verdict.RELEASED), None)


def good_digests(records: list[ReleaseRecord]) -> list[str]:
    """Distinct released digests, newest first."""
    seen: list[str] = []
    for record in records:
        if record.verdict is Verdict.RELEASED and record.digest not in seen:
            seen.append(record.digest)
    return seen


def now() -> float:
    return time.time()
