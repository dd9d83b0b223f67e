"""What a release is made of: its steps and verdicts (enums every reader shares), its options, and what one
attempt came to. Pure data; release.py moves an Attempt through the steps.

The steps, in order:  CHECKS -> EXPAND_MIGRATIONS -> DIGEST_WRITE -> STACK_UPDATE -> ECS_ROLLOUT -> HEALTH_GATE
-> CONTRACT_MIGRATIONS. A blue/green service reaches HEALTH_GATE inside STACK_UPDATE (during the bake, while the
previous revision still runs). Any step may end the attempt FAILED; Ctrl-C ends it INTERRUPTED, and what that
leaves behind depends on the step it was in (Step.left_behind).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shipyard.config import ReleaseConfig
from shipyard.errors import ShipyardError


class Step(StrEnum):
    CHECKS = "checks"  # resolve the image, the guards, the wake of a sleeping environment
    EXPAND_MIGRATIONS = "expand migrations"
    DIGEST_WRITE = "digest write"
    STACK_UPDATE = "stack update"
    ECS_ROLLOUT = "ECS rollout"
    HEALTH_GATE = "health gate"
    CONTRACT_MIGRATIONS = "contract migrations"

    @property
    def rolled_out(self) -> bool:
        """The new digest reached the service (and a failure needs a rollback)."""
        return self not in (Step.CHECKS, Step.EXPAND_MIGRATIONS)

    def left_behind(self, digest: str, *, stack_continues: bool) -> str:
        """What an interruption in this step leaves, in words for the one who pressed Ctrl-C."""
        if self is Step.CHECKS:
            return "nothing was changed"
        if self is Step.EXPAND_MIGRATIONS:
            return "the migration task was stopped; migrations it finished stay applied, and nothing was rolled out"
        if self is Step.CONTRACT_MIGRATIONS:
            return f"{digest[:19]} is released; the contract migration task was stopped, and migrations it finished stay applied"
        left = f"the image parameter names {digest[:19]}, which never passed the health gate (`shipyard status` marks it UNVERIFIED)"
        return left + ("; CloudFormation goes on updating the service stack" if stack_continues else "")


class Verdict(StrEnum):
    RELEASED = "released"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class Kind(StrEnum):
    RELEASE = "release"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Workload:
    """A workload beside the primary service, as a release of the set takes it: a release moves every one of them
    with the primary, in one service-stack update, and judges each (its rollout, then a web service's own health gate
    or a worker's bake)."""

    name: str
    health_path: str | None  # what its health gate requests through the edge; None where the edge does not reach it
    ref: str | None = None  # the image to release; None: the one it runs now (its directory did not change)
    kind: str = "web"  # web: its health gate; backend: its container health check (ECS's rollout); worker: its bake; job: its state machine (and --smoke, a run)


@dataclass
class ReleaseOptions:
    health_url: str | None = None
    rollout_timeout: float = 900.0
    health_timeout: float = 120.0
    health_successes: int = 3
    health_interval: float = 2.0
    auto_rollback: bool = True
    allow_vulnerable: str | None = None
    override_budget: str | None = None
    break_lock: bool = False  # break another release's lock once its lease has expired
    migrate: list[str] | None = None  # [release] migrate: run in one-off tasks of the new image (migrations.py)
    migrate_timeout: float = 600.0
    smoke: bool = False  # each job whose image changes runs once and must succeed (job_run.py)

    @classmethod
    def of(cls, settings: ReleaseConfig, **overrides: object) -> ReleaseOptions:
        """shipyard.toml's [release], with what the command line says instead (None: the file's value)."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return cls(**{"rollout_timeout": settings.rollout_timeout, "health_timeout": settings.health_timeout,
                      "health_successes": settings.health_successes, "migrate": settings.migrate_command,
                      "migrate_timeout": settings.migrate_timeout, **given})

    @property
    def lease(self) -> float:
        """The longest a release can hold the lock: its migrations, itself and its automatic rollback, with margin."""
        return 2 * (self.rollout_timeout + self.health_timeout) + (2 * self.migrate_timeout if self.migrate else 0) + 300


@dataclass
class Attempt:
    """One digest's way through the steps."""

    digest: str
    verdict: Verdict = Verdict.FAILED
    reasons: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    step: Step = Step.CHECKS
    workloads: dict[str, str] = field(default_factory=dict)  # the set's other images: workload name -> digest
    unreachable: bool = False  # the health URL itself could not be reached (DNS, connection, TLS)
    moved_back: bool = False  # a failed gate during the bake had ECS move the traffic back (StopServiceDeployment)

    @property
    def released(self) -> bool:
        return self.verdict is Verdict.RELEASED


@dataclass
class Outcome:
    environment: str
    attempt: Attempt
    rollback: Attempt | None = None
    rolled_back_to: str | None = None
    no_rollback: str = ""  # why there was no automatic rollback, and what runs instead

    def summary(self) -> str:
        """One line for a failed release: why, and what the automatic rollback came to."""
        text = f"failed: {'; '.join(self.attempt.reasons)}"
        if not self.attempt.step.rolled_out:
            return text
        if self.rollback is None:
            return text + (f"; {self.no_rollback}" if self.no_rollback else "")
        state = "healthy again" if self.rollback.released else f"ALSO FAILED: {'; '.join(self.rollback.reasons)}"
        return text + f"; rolled back to {self.rolled_back_to}: {state}"


class ReleaseFailed(ShipyardError):
    def __init__(self, where: str, what: str, hint: str, outcome: Outcome) -> None:
        super().__init__(where, what, hint)
        self.outcome = outcome
