"""config -> cloud assembly: every environment in one Node.js process.

Writes one CDK cloud assembly per environment under the output directory and
returns a summary the later stages read (stacks in deploy order, their
regions, templates, dependencies and cross-region parameters).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.config import Config, Environment
from shipyard.errors import SynthError
from shipyard.node import use_bundled_node


@dataclass(frozen=True)
class StackArtifact:
    name: str
    account: str
    region: str
    template_path: Path
    depends_on: tuple[str, ...]
    # CloudFormation parameter -> (stack, output) the deploy engine fills it from.
    parameters_from: dict[str, tuple[str, str]] = field(default_factory=dict)
    environment: str = ""

    def template(self) -> dict:
        return json.loads(self.template_path.read_text())

    @property
    def resource_count(self) -> int:
        return len(self.template().get("Resources", {}))


@dataclass(frozen=True)
class EnvironmentAssembly:
    environment: Environment
    directory: Path
    stacks: tuple[StackArtifact, ...]  # deploy order

    def stack(self, name: str) -> StackArtifact:
        return next(s for s in self.stacks if s.name == name)


def synthesize(config: Config, environments: list[Environment], out_dir: Path, *, nag: bool = False,
               customize: Callable[[list[Any]], None] | None = None) -> list[EnvironmentAssembly]:
    """Synthesize the named environments in one process; CDK's own validation is off.

    nag=True adds cdk-nag's AwsSolutions pack as an Aspect; it writes one CSV report per stack.
    customize receives each environment's stacks before synth, for escape-hatch changes.
    """
    use_bundled_node()
    # A JavaScript stack trace per construct only helps debugging CDK itself.
    os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")
    import aws_cdk as cdk

    from shipyard.blueprint.stacks import Settings, build_environment

    assemblies = []
    for env in environments:
        directory = (out_dir / env.name).resolve()
        app = cdk.App(
            outdir=str(directory),
            analytics_reporting=False,
            stack_traces=False,
            # CDK's built-in template validation costs about 3 s per process;
            # `shipyard check` runs cfn-lint against the real schemas instead.
            builtin_cloud_formation_validation=False,
            context={"aws:cdk:enable-path-metadata": False, "aws:cdk:disable-stack-trace": True},
        )
        try:
            before, after = config.neighbours(env.name)
            stacks = build_environment(app, settings=Settings(app=config.app, service=config.service, site=config.site, env=env,
                                                              promotes_from=before, promotes_to=after, database=config.database))
            if customize is not None:
                customize(stacks)
            if nag:
                import cdk_nag

                cdk.Aspects.of(app).add(cdk_nag.AwsSolutionsChecks(reports=True, verbose=True))
            app.synth(validate_on_synthesis=False)
        except Exception as exc:  # jsii surfaces CDK errors as RuntimeError/JSIIError
            raise SynthError(f"synth {env.name}", str(exc).splitlines()[0],
                             "run with --debug for the full CDK error") from exc
        artifacts = []
        for stack in stacks:
            artifacts.append(StackArtifact(
                name=stack.stack_name,
                account=env.account,
                region=stack.region,
                template_path=directory / stack.template_file,
                depends_on=tuple(d.stack_name for d in stack.dependencies),
                parameters_from=dict(stack.parameters_from),
                environment=env.name,
            ))
        assembly = EnvironmentAssembly(environment=env, directory=directory, stacks=tuple(artifacts))
        _write_summary(assembly)
        assemblies.append(assembly)
    return assemblies


def _write_summary(assembly: EnvironmentAssembly) -> None:
    summary = {
        "environment": assembly.environment.name,
        "account": assembly.environment.account,
        "stacks": [
            {"name": s.name, "region": s.region, "template": s.template_path.name,
             "dependsOn": list(s.depends_on),
             "parametersFrom": {k: {"stack": v[0], "output": v[1]} for k, v in s.parameters_from.items()}}
            for s in assembly.stacks
        ],
    }
    (assembly.directory / "shipyard.json").write_text(json.dumps(summary, indent=2) + "\n")
