"""`shipyard up`: every environment deployed, its site published and verified, in one command.

On the embedded AWS by default (nothing leaves this machine); with --aws on
real accounts. All environments are synthesized in one process first.
"""

from __future__ import annotations

import time

from shipyard import ui
from shipyard.aws import Aws, Target
from shipyard.config import Config
from shipyard.deploy.execute import DeployOptions, deploy
from shipyard.deploy.site import publish_environment
from shipyard.deploy.state import read_stack
from shipyard.deploy.verify import verify
from shipyard.errors import UsageError
from shipyard.synth import synthesize


def run_up(config: Config, *, use_aws: bool, profile: str | None, keep: bool, port: int | None, yes: bool) -> bool:
    """True when every environment deployed and verified."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    assemblies = synthesize(config, config.select(None), config.directory / "cdk.out")
    timings["synth"] = time.perf_counter() - started

    server = None
    if use_aws:
        target = Target(profile=profile)
        unconfirmed = [a.environment.name for a in assemblies if a.environment.is_production and not yes]
        if unconfirmed:
            raise UsageError(f"environment {unconfirmed[0]}", "is production; `up --aws` changes it only with --yes")
    else:
        from shipyard.localaws.server import EmbeddedAws

        server = EmbeddedAws(port).start()
        target = Target(endpoint=server.endpoint)
        ui.info(f"embedded AWS on {server.endpoint}")
    rows = []
    all_passed = True
    try:
        for assembly in assemblies:
            env = assembly.environment
            aws = Aws(target, env.account)
            mark = time.perf_counter()
            results = deploy(aws, assembly, DeployOptions(confirm=lambda question: yes or not use_aws))
            timings[f"deploy {env.name}"] = time.perf_counter() - mark
            mark = time.perf_counter()
            sync, _ = publish_environment(aws, env, config.site_directory)
            timings[f"publish {env.name}"] = time.perf_counter() - mark
            mark = time.perf_counter()
            checks = verify(aws, assembly, config.app.repository)
            timings[f"verify {env.name}"] = time.perf_counter() - mark
            failed = [c for c in checks if not c.passed]
            all_passed &= not failed
            for check in failed:
                ui.error(f"{env.name}: verify failed: {check.name}: {check.detail} ({check.resource})")
            edge = read_stack(aws, env.names.edge_stack, env.region)
            domain = edge.outputs.get("DistributionDomain", "?") if edge else "?"
            outcomes = ", ".join(sorted({r.outcome for r in results}))
            rows.append((env.name, env.account, env.region, f"{len(results)} ({outcomes})", f"https://{domain}",
                         f"{len(sync.uploads)} uploaded, {sync.unchanged} unchanged",
                         f"{len(checks) - len(failed)}/{len(checks)} pass"))
        ui.table(f"shipyard up: {config.app.name} on {target.describe()}",
                 ["environment", "account", "region", "stacks", "endpoint", "site", "verify"], rows)
        ui.info("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
                + f"; total {time.perf_counter() - started:.1f}s")
        if keep and server is not None:
            ui.info("the embedded AWS stays up for exploration; Ctrl-C stops it. In another shell:")
            for key, value in {"SHIPYARD_ENDPOINT": server.endpoint, **server.environment()}.items():
                ui.info(f"  export {key}={value}")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                ui.info("stopping the embedded AWS")
    finally:
        if server is not None:
            server.stop()
    return all_passed
