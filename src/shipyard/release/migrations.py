"""A release's schema migrations, run as one-off tasks of the new image, and what rollback may do after them.

The convention (docs/database.md): migration files are NNNN_name.expand.sql or NNNN_name.contract.sql. An expand
migration leaves the schema usable by the code released before it; a contract migration does not. The configured
command runs twice per release, with SHIPYARD_MIGRATION_PHASE=expand before the rollout (new code may need what it
adds) and SHIPYARD_MIGRATION_PHASE=contract after the new code passed its health gate (so no old task still runs
when the schema stops fitting it). The command prints `migration applied: <file>` for each migration, `migration pending: <file>` where the expand
phase stopped at a contract migration, and `schema version: <v>` at the end; the release record keeps the version
and the contract migrations applied. A release whose expand phase left nothing pending runs no contract phase.

A failed or interrupted rollout therefore never has a contract migration behind it, and the automatic rollback
stays safe. Going back further, past a release that applied a contract migration, is refused (exit 4) with the
safe ways forward: roll forward, or restore the database to a point before that release.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from enum import StrEnum

from shipyard import ui
from shipyard.aws import Aws
from shipyard.errors import Refused
from shipyard.release.attempt import Verdict
from shipyard.release.history import ReleaseRecord
from shipyard.release.one_off import prepare_image, run_task
from shipyard.synth import EnvironmentAssembly

APPLIED = re.compile(r"^migration applied: (\S+)")
PENDING = re.compile(r"^migration pending: (\S+)")
VERSION = re.compile(r"^schema version: (\S+)")
CONTRACT_MARKER = ".contract."


def is_contract(name: str) -> bool:
    return CONTRACT_MARKER in name


class Phase(StrEnum):
    EXPAND = "expand"  # before the rollout: what the code released before still runs on
    CONTRACT = "contract"  # after the health gate: what only the new code runs on


@dataclass
class PhaseResult:
    phase: Phase
    task_id: str = ""
    exit_code: int | None = None
    stopped_reason: str = ""
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # what the expand phase left for the contract phase
    schema_version: str = ""

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0

    def failure(self) -> str:
        how = f"exited with code {self.exit_code}" if self.exit_code is not None else f"did not run: {self.stopped_reason}"
        return f"{self.phase} migrations (task {self.task_id}) {how}"


def run_phase(aws: Aws, assembly: EnvironmentAssembly, image_reference: str, command: list[str], phase: Phase, *,
              timeout: float) -> PhaseResult:
    """One phase of the migrations, in a one-off task of the image being released."""
    env = assembly.environment
    definition = prepare_image(aws, assembly, image_reference, timeout=timeout)
    ui.info(f"{env.name}: {phase} migrations: {' '.join(command)} in a one-off task of {image_reference.rsplit('@', 1)[-1][:19]}")
    run = run_task(aws, env, command, task_definition=definition, timeout=timeout,
                   environment={"SHIPYARD_MIGRATION_PHASE": phase}, started_by=f"shipyard-migrate-{phase}",
                   on_line=lambda line: ui.info(f"  {line}"))
    result = PhaseResult(phase, run.task_id, run.exit_code, run.stopped_reason)
    for line in run.lines:
        if (applied := APPLIED.match(line.strip())) is not None:
            result.applied.append(applied[1])
        elif (pending := PENDING.match(line.strip())) is not None:
            result.pending.append(pending[1])
        elif (version := VERSION.match(line.strip())) is not None:
            result.schema_version = version[1]
    return result


def guard_rollback(records: list[ReleaseRecord], target: str, identifier: str | None) -> None:
    """Refuse (exit 4) to release `target` again if a release after its last good one applied a contract migration."""
    newer = []
    for record in records:  # newest first
        if record.digest == target and record.verdict is Verdict.RELEASED:
            break
        newer.append(record)
    else:
        return  # never released here: nothing says which schema it ran on
    contracted = [r for r in newer if r.contracts]
    if not contracted:
        return
    oldest = contracted[-1]
    when = datetime.datetime.fromtimestamp(oldest.time, datetime.UTC)
    before = (when - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    restore = (f"aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier {identifier} "
               f"--target-db-instance-identifier {identifier}-before-{when:%Y%m%d%H%M} --restore-time {before}" if identifier else "")
    raise Refused(
        f"rollback to {target[:19]}",
        f"{target[:19]} ran before contract migration {', '.join(oldest.contracts)} (released {when:%Y-%m-%d %H:%M} UTC "
        f"with {oldest.digest[:19]}), which changed the schema that code needs; nothing was changed",
        "roll forward: fix the code and `shipyard release` it; or restore the database to before that release"
        + (f" ({restore}) and point the service at it" if restore else ""))
