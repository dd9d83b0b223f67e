"""Modelled wall time on real AWS for the example app, from its synthesized templates and AWS's latencies.

Usage: python benchmarks/aws_pace.py [--measure] [--app DIR] [--preview]
Prints: one release to production, a failed release and its rollback, and the first `up --aws` of both
environments (stack after stack, and the critical path with independent stacks and the two environments side by
side, which is how `up --aws` deploys). With workloads beside [service] (--app examples/shop), the verdict of a
release of the whole set: each member is judged beside the stack update (release/set_judge.py), so the set's verdict
is its slowest member's. The latency table and its sources: src/shipyard/localaws/pace.py and
docs/aws-pace.md. Goals (issue 11): release verdict <= 120 s; failed verdict -> traffic on the last known good
image <= 60 s.

--preview (an app with [previews]): `preview deploy` of a new preview, from its one stack: the stack's critical path with
its one ECS service (one task of every workload) created until its task is healthy (rolling, no bake: CloudFormation
waits for the service to be stable), then the health gates of the web workloads through the edge, side by side. With a
database, the task runs the containers that make the database and apply the migrations before its workloads start.
Goal (issue 27): <= 120 s.

--measure also runs one release on the embedded AWS at AWS's pace (SHIPYARD_LOCAL_PACE=aws, compressed 5x)
and prints the measured ECS rollout scaled back to AWS time, as a check that the simulator follows the model.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from shipyard.config import load_config  # noqa: E402
from shipyard.localaws.core.pace import LATENCIES, RolloutPhases, stack_create_seconds, template_phases  # noqa: E402
from shipyard.release.attempt import ReleaseOptions  # noqa: E402
from shipyard.release.bake_gate import BAKE_MARGIN  # noqa: E402
from shipyard.synth import synthesize  # noqa: E402

GATE = ReleaseOptions()  # shipyard's own defaults: 3 answers 200 in a row, 2 s apart, 120 s to get them


def _seconds(name: str) -> float:
    return LATENCIES[name].seconds


def _to_steady(phases: RolloutPhases) -> float:
    """Change set and task definition, then the new revision's tasks start, turn healthy and (blue/green) take traffic."""
    return _seconds("change set") + _seconds("resource") + phases.steady


def release_verdict(phases: RolloutPhases) -> float:
    """Blue/green: the gate runs as soon as traffic moved (during the bake). Rolling: after CloudFormation completes."""
    gate = GATE.health_successes * GATE.health_interval
    if phases.shift:
        return _to_steady(phases) + gate
    return _to_steady(phases) + phases.drain + phases.bake + _seconds("cloudformation stabilization poll") + gate


def release_done(phases: RolloutPhases) -> float:
    """The command ends when CloudFormation does: after the bake and the old revision's drain."""
    return _to_steady(phases) + phases.drain + phases.bake + _seconds("cloudformation stabilization poll")


def failed_verdict(phases: RolloutPhases) -> float:
    """A health URL that never answers 200: the gate gives up at its timeout (capped to fit the bake, blue/green)."""
    if phases.shift:
        return _to_steady(phases) + min(GATE.health_timeout, phases.bake - BAKE_MARGIN)
    return release_verdict(phases) - GATE.health_successes * GATE.health_interval + GATE.health_timeout


def back_on_last_known_good(phases: RolloutPhases) -> float:
    """From a failed verdict to traffic on the last known good image.

    Blue/green: StopServiceDeployment moves the weights back to the revision that never stopped. Rolling: the old
    tasks are gone, so a new rollout of the last known good image must start and turn healthy.
    """
    if phases.shift:
        return _seconds("traffic shift")
    return _to_steady(phases)


def set_verdicts(config, production, phases: RolloutPhases) -> dict[str, float]:
    """Each member's verdict in a release of the set, from the start of the release (all deploy in one stack update).

    A web service is judged like [service], in its own bake; a backend once ECS sees its container healthy (its task
    started, then the first passing check, one interval in); a worker once its task runs and its bake has passed."""
    from shipyard.release.worker_watch import BAKE_SECONDS

    resources = production.stack(production.environment.names.service_stack).template()["Resources"]
    definitions = {p["Family"]: p for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition" for p in [r["Properties"]]}
    started = _seconds("change set") + _seconds("resource") + _seconds("fargate task start")
    verdicts = {"[service]": release_verdict(phases)}
    for name, workload in config.services.items():
        if workload.kind == "web":
            verdicts[name] = release_verdict(phases)
        elif workload.kind == "backend":
            check = definitions[production.environment.names.workload(name).task_family]["ContainerDefinitions"][0]["HealthCheck"]
            verdicts[name] = started + check["Interval"]
        elif workload.kind == "worker":
            verdicts[name] = started + BAKE_SECONDS
    return verdicts


def first_up(assembly, phases: RolloutPhases) -> tuple[float, float]:
    """(stacks one after another, critical path with independent stacks side by side) for one environment."""
    seconds = {s.name: stack_create_seconds(s.template()) for s in assembly.stacks}

    @functools.cache
    def finish(name: str) -> float:
        stack = assembly.stack(name)
        return max((finish(d) for d in stack.depends_on if d in seconds), default=0.0) + seconds[name]

    return sum(seconds.values()), max(finish(s.name) for s in assembly.stacks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--preview", action="store_true", help="model a new preview's deploy (the app needs [previews])")
    parser.add_argument("--app", type=Path, default=ROOT / "examples" / "webapp", help="the app's directory (its shipyard.toml)")
    args = parser.parse_args()
    config = load_config(args.app / "shipyard.toml")
    with tempfile.TemporaryDirectory() as scratch:
        assemblies = {a.environment.name: a for a in synthesize(config, config.select(None), Path(scratch))}
        production = assemblies["production"]
        names = production.environment.names
        phases = template_phases(production.stack(names.foundation_stack).template(), production.stack(names.service_stack).template())
        print(f"deployment phases (s): task start {phases.task_start:.0f}, healthy {phases.healthy:.0f}, "
              f"traffic shift {phases.shift:.0f}, bake {phases.bake:.0f}, drain {phases.drain:.0f} "
              f"-> completed at {phases.completed:.0f}")
        strategy = "blue/green" if phases.shift else "rolling"
        print(f"release to production ({strategy}), verdict: {release_verdict(phases):.0f} s (goal <= 120 s); "
              f"command done when CloudFormation is: {release_done(phases):.0f} s")
        if config.services:
            verdicts = set_verdicts(config, production, phases)
            print("release of the set to production, each member's verdict: "
                  + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in verdicts.items())
                  + f"; the set's: {max(verdicts.values()):.0f} s (goal <= 120 s)")
        print(f"failed release (health gate never passes): verdict after {failed_verdict(phases):.0f} s; traffic back on the "
              f"last known good image {back_on_last_known_good(phases):.0f} s after the verdict (goal <= 60 s)")
        sequential, critical = {}, {}
        for name, assembly in assemblies.items():
            sequential[name], critical[name] = first_up(assembly, phases)
            print(f"first up --aws of {name}: {sequential[name]:.0f} s stack after stack, {critical[name]:.0f} s critical path")
        print(f"first up --aws of both environments: {max(critical.values()):.0f} s side by side (as up --aws runs), "
              f"{sum(sequential.values()):.0f} s if every stack went one after another")
        if args.preview:
            preview_deploy(config, phases, Path(scratch))
        if args.measure:
            _measure(config, assemblies["staging"])


def preview_deploy(config, phases: RolloutPhases, scratch: Path) -> float:
    """A new preview's `preview deploy`, on AWS: its stack (its one service until its one task is healthy; nothing
    of a preview has a bake) and the health gates (one per web workload, side by side)."""
    from shipyard.synth import synthesize_preview

    if config.previews is None:
        raise SystemExit(f"{config.path}: no [previews]; add one to model a preview's deploy")
    stack = synthesize_preview(config, "pr-7", slot=0, expires="2026-12-08T00:00:00Z", out_dir=scratch / "preview").stacks[0]
    service = phases.task_start + phases.healthy + _seconds("cloudformation stabilization poll")
    gates = GATE.health_successes * GATE.health_interval  # one per web workload, all at once
    # With a database, the task runs the database's container and then the migrations' before its workloads' (each
    # after the task's images are pulled, all at once): its service is that much slower to turn healthy.
    waited = (1 + bool(config.release.migrate)) * _seconds("container run") if config.database else 0.0
    created = stack_create_seconds(stack.template(), service_seconds=service + waited)
    steps = f"stack {created:.0f} s (its one service {service:.0f} s to a healthy task" + (
        f", {waited:.0f} s more for its database and migrations)" if waited else ")")
    total = created + gates
    print(f"preview deploy of a new preview: {steps}, health gates {gates:.0f} s; {total:.0f} s (goal <= 120 s)")
    return total


def _measure(config, staging) -> None:
    """One release of the sample service on the embedded AWS at AWS's pace, compressed; scaled back to AWS seconds.

    The task processes start and answer at their own speed; the health checks, grace period, bake and drain run
    AWS's timers divided by the factor, and a task waits as long as Fargate takes to start one."""
    import os

    os.environ["SHIPYARD_LOCAL_PACE"] = "aws"
    # Compressed only 5x: shipyard's own polling (every 2 s at most) is scaled up by the same factor.
    os.environ.setdefault("SHIPYARD_LOCAL_PACE_FACTOR", "5")
    from shipyard.app.local_images import build_local_image
    from shipyard.app.target import embedded, embedded_aws
    from shipyard.aws import Aws
    from shipyard.deploy.execute import DeployOptions, deploy
    from shipyard.deploy.site import publish_environment
    from shipyard.localaws.core.pace import factor
    from shipyard.release.release import release

    with embedded_aws() as server:
        aws = Aws(embedded(server.endpoint), staging.environment.account)
        deploy(aws, staging, DeployOptions())
        publish_environment(aws, staging.environment, config.site_directory)
        image = build_local_image(aws, staging.environment, directory=config.service_directory, tag="pace001",
                                  architecture=staging.environment.architecture, command=None, vulnerable=False).image
        outcome = release(aws, staging, image.reference, ReleaseOptions(health_interval=0.05), health_path="/healthz")
    timings = {k: v * factor() for k, v in outcome.attempt.timings.items()}
    print(f"measured at AWS pace (x{factor():.0f}, polling intervals scaled too): verdict {timings['verdict']:.0f} s, "
          f"stack update incl. the ECS deployment {timings['stack update']:.0f} s of AWS time")


if __name__ == "__main__":
    main()
