"""What the AWS-facing commands share: choosing the target, synthesizing one environment, confirmations."""

from __future__ import annotations

import sys
from pathlib import Path

from shipyard.aws import Aws, Target
from shipyard.config import Config, Environment
from shipyard.errors import UsageError
from shipyard.synth import EnvironmentAssembly, synthesize


def resolve_target(*, use_aws: bool, profile: str | None, endpoint: str | None) -> Target:
    if (use_aws or profile) and endpoint:
        raise UsageError("--endpoint", "cannot be combined with --aws/--profile; pick the embedded AWS or real AWS")
    if use_aws or profile:
        return Target(profile=profile)
    if endpoint:
        if not endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
            raise UsageError("--endpoint", f"{endpoint} is not an embedded AWS on this machine (http://127.0.0.1:PORT)")
        return Target(endpoint=endpoint.rstrip("/"))
    raise UsageError("target", "no AWS target named",
                     "pass --aws (real AWS, default credentials or --profile) or --endpoint URL "
                     "(the embedded AWS that `shipyard local` prints; or set SHIPYARD_ENDPOINT)")


def assembly_for(config: Config, env: Environment, out: Path | None = None) -> EnvironmentAssembly:
    return synthesize(config, [env], out or config.directory / "cdk.out")[0]


def session(target: Target, env: Environment) -> Aws:
    return Aws(target, env.account)


def interactive() -> bool:
    return sys.stdin.isatty()


def confirm(question: str, *, yes: bool) -> bool:
    if yes:
        return True
    if not interactive():
        return False
    import typer

    return typer.confirm(question, default=False)
