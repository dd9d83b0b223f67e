"""What an environment command works on, and the one production guard."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from shipyard import ui
from shipyard.aws import Aws, Target
from shipyard.config import Config, Environment
from shipyard.deploy.apply import check_account
from shipyard.deploy.site import local_files
from shipyard.errors import UsageError
from shipyard.synth import EnvironmentAssembly, synthesize


@dataclass
class EnvironmentContext:
    config: Config
    env: Environment
    aws: Aws

    @cached_property
    def assembly(self) -> EnvironmentAssembly:
        """Synthesized on first use: commands that only read (logs, exec) start without Node.js."""
        return assembly_for(self.config, self.env)


def assembly_for(config: Config, env: Environment, out: Path | None = None) -> EnvironmentAssembly:
    """With cdk-nag's reports: the policy gate that deploy and release pass reads them (one synth serves both)."""
    return synthesize(config, [env], out or config.directory / "cdk.out", nag=True)[0]


def open_environment(config: Config, name: str, target: Target) -> EnvironmentContext:
    env = config.environment(name)
    return EnvironmentContext(config, env, Aws(target, env.account))


def confirm(question: str, *, yes: bool) -> bool:
    """--yes answers; otherwise ask on a terminal; off a terminal the answer is no."""
    return yes or (ui.interactive() and ui.confirm(question))


def guard_production(envs: list[Environment], *, yes: bool, action: str) -> None:
    """Every command that changes production asks, or takes --yes; nothing changes before it passes."""
    for env in envs:
        if env.is_production and not confirm(f"{action} {env.name} (account {env.account})?", yes=yes):
            raise UsageError(f"environment {env.name}", "is production; changes need confirmation; nothing was changed",
                             "pass --yes to confirm")


def preflight(config: Config, assemblies: list[EnvironmentAssembly], target: Target, *, site: bool) -> None:
    """Every input of every environment, checked before the first change: the site's files, the policy gate (exit 4)
    and the caller's account in each environment. A bad second environment must not find the first one changed."""
    from shipyard.app.policy import require_policy

    check_inputs(config, site=site)
    require_policy(config, assemblies)
    check_accounts(assemblies, target)


def check_inputs(config: Config, *, site: bool, build: bool = False) -> None:
    """What can be checked on this machine alone: the site's files, and the service's Dockerfile where up builds it."""
    if site:
        local_files(config.site_directory, tuple(config.site.public_dotfiles))
    if build:
        from shipyard.release.oci import parse_dockerfile

        dockerfile = config.service_directory / "Dockerfile"
        if not dockerfile.exists():
            raise UsageError(str(dockerfile), "not found; up builds the service from it and nothing was changed",
                             "set service.directory to the service's build context")
        parse_dockerfile(dockerfile)


def check_accounts(assemblies: list[EnvironmentAssembly], target: Target) -> None:
    """The caller is in each environment's own account."""
    for assembly in assemblies:
        env = assembly.environment
        check_account(Aws(target, env.account), env.account, env.name)
