"""Modelled wall time on real AWS for the example app, from its synthesized templates and AWS's latencies.

Usage: python benchmarks/aws_pace.py [--measure]
Prints: one release to production, a failed release and its rollback, and the first `up --aws` of both
environments (stack after stack, and the critical path with independent stacks and the two environments side by
side, which is how `up --aws` deploys). The latency table and its sources: src/shipyard/localaws/pace.py and
docs/aws-pace.md. Goals (issue 11): release verdict <= 120 s; failed verdict -> traffic on the last known good
image <= 60 s.

--measure also runs one release on the embedded AWS at AWS's pace (SHIPYARD_LOCAL_PACE=aws, compressed 30x)
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
from shipyard.localaws.pace import LATENCIES, RolloutPhases, stack_create_seconds, template_phases  # noqa: E402
from shipyard.release.release import ReleaseOptions  # noqa: E402
from shipyard.synth import synthesize  # noqa: E402

GATE = ReleaseOptions()  # shipyard's own defaults: 3 answers 200 in a row, 2 s apart, 120 s to get them


def _seconds(name: str) -> float:
    return LATENCIES[name].seconds


def release_verdict(phases: RolloutPhases) -> float:
    """Change set, task definition, rolling deployment to COMPLETED (CloudFormation waits for it), health gate."""
    return (_seconds("change set") + _seconds("resource") + phases.completed + _seconds("cloudformation stabilization poll")
            + GATE.health_successes * GATE.health_interval)


def back_on_last_known_good(phases: RolloutPhases) -> float:
    """From a failed verdict to traffic on the last known good image: a new rollout of it until its targets are healthy."""
    return _seconds("change set") + _seconds("resource") + phases.steady


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
    args = parser.parse_args()
    config = load_config(ROOT / "examples" / "webapp" / "shipyard.toml")
    with tempfile.TemporaryDirectory() as scratch:
        assemblies = {a.environment.name: a for a in synthesize(config, config.select(None), Path(scratch))}
        production = assemblies["production"]
        names = production.environment.names
        phases = template_phases(production.stack(names.foundation_stack).template(), production.stack(names.service_stack).template())
        print(f"rolling deployment phases (s): task start {phases.task_start:.0f}, healthy {phases.healthy:.0f}, "
              f"drain {phases.drain:.0f}, bake {phases.bake:.0f} -> completed at {phases.completed:.0f}")
        verdict = release_verdict(phases)
        print(f"release to production, verdict: {verdict:.0f} s (goal <= 120 s)")
        failed = verdict - GATE.health_successes * GATE.health_interval + GATE.health_timeout
        back = back_on_last_known_good(phases)
        print(f"failed release (health gate never passes): verdict after {failed:.0f} s; traffic back on the last known good "
              f"image {back:.0f} s after the verdict (goal <= 60 s); rollback judged after "
              f"{back + phases.drain + phases.bake + _seconds('cloudformation stabilization poll'):.0f} s")
        sequential, critical = {}, {}
        for name, assembly in assemblies.items():
            sequential[name], critical[name] = first_up(assembly, phases)
            print(f"first up --aws of {name}: {sequential[name]:.0f} s stack after stack, {critical[name]:.0f} s critical path")
        print(f"first up --aws of both environments: {max(critical.values()):.0f} s side by side (as up --aws runs), "
              f"{sum(sequential.values()):.0f} s if every stack went one after another")
        if args.measure:
            _measure(config, assemblies["staging"])


def _measure(config, staging) -> None:
    """One release on the embedded AWS at AWS's pace, compressed; its ECS rollout scaled back to AWS seconds."""
    import os

    os.environ["SHIPYARD_LOCAL_PACE"] = "aws"
    from shipyard.app.target import embedded, embedded_aws, push_local_image
    from shipyard.aws import Aws
    from shipyard.deploy.execute import DeployOptions, deploy
    from shipyard.localaws.pace import factor
    from shipyard.release.release import release

    with embedded_aws() as server:
        aws = Aws(embedded(server.endpoint), staging.environment.account)
        deploy(aws, staging, DeployOptions())
        image = push_local_image(aws, staging.environment, tag="pace001", architecture="amd64", fault=None, vulnerable=False)
        options = ReleaseOptions(health_url=_local_health_url(), health_interval=0.05)
        outcome = release(aws, staging, image.reference, options, health_path="/healthz")
    stack = outcome.attempt.timings["stack update"] * factor()
    print(f"measured at AWS pace (x{factor():.0f}): stack update incl. ECS rollout {stack:.0f} s of AWS time")


def _local_health_url() -> str:
    import http.server
    import threading

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/healthz"


if __name__ == "__main__":
    main()
