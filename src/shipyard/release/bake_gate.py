"""The health gate of a release: the health URL through the edge, judged during a blue/green bake or after the
rollout, and what a failed gate means for the attempt.

During a blue/green deployment's bake time the previous revision still runs. BakeGate is called on every poll of
the stack update (CloudFormation waits for the whole deployment); once ECS reports the deployment in BAKE_TIME,
production traffic is on the new revision and the gate judges it through the edge. If it fails,
StopServiceDeployment with ROLLBACK moves traffic back to the previous revision at once, ECS fails the deployment
and CloudFormation rolls the stack back. A service without blue/green never reaches BAKE_TIME, and the gate runs
after the stack update instead.
"""

from __future__ import annotations

import time

from shipyard import ui
from shipyard.aws import Aws, AwsError
from shipyard.config import Environment
from shipyard.release import health
from shipyard.release.attempt import Attempt, ReleaseOptions, Step, Verdict

BAKE_MARGIN = 15.0  # seconds of the bake left for StopServiceDeployment after a failed gate


def run_gate(aws: Aws, url: str, options: ReleaseOptions, what: str, *, timeout: float | None = None) -> health.GateResult:
    """The gate, its answers spaced as on AWS: on the embedded AWS, whose health checks run faster, closer in proportion."""
    with ui.waiting(what) as show:
        return health.gate(url, successes=options.health_successes, timeout=options.health_timeout if timeout is None else timeout,
                           interval=aws.target.lasts(options.health_interval, at_least=0.05), on_answer=lambda streak, last: show(
                               f"{streak}/{options.health_successes} answers 200 in a row, last {last}"))


# The stages after which the new tasks are healthy and take production traffic (ECS developer guide, "Deployment
# lifecycle stages"): the first one seen ends the part of the stack update a user waits on for the tasks.
SERVING = ("PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP")


class BakeGate:
    """on_wait of the service stack's update: the gate, once, when ECS reports the deployment in BAKE_TIME."""

    def __init__(self, aws: Aws, env: Environment, url: str, options: ReleaseOptions, attempt: Attempt,
                 judge_without_url: bool) -> None:
        self.aws, self.env, self.url, self.options, self.attempt = aws, env, url, options, attempt
        self.judge_without_url = judge_without_url
        self.result: health.GateResult | None = None
        self.started = time.monotonic()
        self.stages: dict[str, float] = {}  # lifecycle stage of the deployment -> when this first saw it

    def __call__(self, stack_status: str) -> None:
        env, ecs = self.env, self.aws.ecs(self.env.region)
        deployment = ecs.newest_deployment_in_progress(env.names.cluster, env.names.service)
        if deployment is not None:
            self.stages.setdefault(deployment.lifecycle_stage, time.monotonic())
        if self.result is not None or deployment is None or deployment.lifecycle_stage != "BAKE_TIME":
            return
        self.attempt.step = Step.HEALTH_GATE
        service = ecs.service_of(env.names.cluster, env.names.service)
        lasts = self.aws.target.lasts
        left = self.aws.target.bake_lasts(60.0 * (service.bake_minutes if service else 0.0)) - lasts(BAKE_MARGIN)
        # The verdict must land while the previous revision still runs, or going back means new tasks.
        timeout = min(self.options.health_timeout, max(left, self.options.health_successes * lasts(self.options.health_interval)))
        self.result = run_gate(self.aws, self.url, self.options, f"{env.name}: health gate during the bake on {self.url}", timeout=timeout)
        self.attempt.timings["verdict"] = time.monotonic() - self.started
        unreachable_again = self.judge_without_url and self.result.last.startswith("unreachable")
        if not self.result.passed and not unreachable_again:
            # Said once, after trying: what ECS did, not what was hoped for.
            try:
                ecs.roll_back_deployment(deployment.arn)
                self.attempt.moved_back = True
                ui.info(f"{env.name}: health gate failed ({self.result.last}); ECS moved the traffic back to the previous "
                        "revision (StopServiceDeployment, ROLLBACK)")
            except AwsError as exc:  # the bake ended first: the new revision kept the traffic
                ui.info(f"{env.name}: health gate failed ({self.result.last}) after the deployment had ended ({exc.what}); "
                        "the new revision kept the traffic")
        self.attempt.step = Step.STACK_UPDATE

    def phases(self, ended: float) -> dict[str, float]:
        """What the stack update spent its time on, as seen at its polls: until the new tasks were healthy and took the
        traffic, then the bake; {} where no blue/green stage was seen (a stack update without a deployment)."""
        serving = min((at for stage, at in self.stages.items() if stage in SERVING), default=None)
        if serving is None:
            return {}
        found = {"new tasks serving": serving - self.started}
        if "BAKE_TIME" in self.stages:
            found["bake"] = ended - self.stages["BAKE_TIME"]
        return found


def gate_failed(attempt: Attempt, gate: health.GateResult, url: str, options: ReleaseOptions, judge_without_url: bool) -> Attempt:
    """A gate that did not pass: a failure, except where the URL was unreachable before too (then ECS and the
    targets, which passed, decide)."""
    attempt.unreachable = gate.last.startswith("unreachable")
    if attempt.unreachable and judge_without_url:
        attempt.reasons.append(f"health URL unreachable before and after ({gate.last}); judged by ECS and target health alone")
        attempt.verdict = Verdict.RELEASED
        return attempt
    attempt.reasons.append(gate_failure(url, gate, options))
    return attempt


def gate_failure(url: str, gate: health.GateResult, options: ReleaseOptions) -> str:
    """Why a gate did not pass, in one line."""
    return (f"health URL {url} did not answer 200 {options.health_successes} times in a row "
            f"within {gate.timeout:.0f}s (last answer: {gate.last})")
