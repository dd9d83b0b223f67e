"""config -> cloud assembly: every environment in one Node.js process.

Writes one CDK cloud assembly per environment under the output directory and
returns a summary the later stages read (stacks in deploy order, their
regions, templates, dependencies and cross-region parameters).

An environment's assembly is a function of its configuration and of shipyard's
own code: it is kept in shipyard's cache under a digest of both and copied
from there while neither changes, so a command that only needs the templates
starts no Node.js at all.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shipyard import content_cache
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
    tags: dict[str, str] = field(default_factory=dict)  # the stack's own (a preview's: its name, slot and expiry)

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
    from_cache: bool = False  # copied from shipyard's cache: the configuration and shipyard's code are unchanged

    def stack(self, name: str) -> StackArtifact:
        return next(s for s in self.stacks if s.name == name)


def synthesize(config: Config, environments: list[Environment], out_dir: Path, *, nag: bool = False,
               customize: Callable[[list[Any]], None] | None = None) -> list[EnvironmentAssembly]:
    """Synthesize the named environments in one process; CDK's own validation is off.

    nag=True adds cdk-nag's AwsSolutions pack as an Aspect; it writes one CSV report per stack.
    customize receives each environment's stacks before synth, for escape-hatch changes (never cached).
    """
    assemblies = []
    for env in environments:
        directory = (out_dir / env.name).resolve()
        key = None if customize is not None else _cache_key(config, env, nag=nag)
        restored = key is not None and _restore(key, directory)
        if not restored:
            _synthesize_one(config, env, directory, nag=nag, customize=customize)
            if key is not None:
                _keep(key, directory)
        assemblies.append(replace(read_assembly(env, directory), from_cache=restored))
    return assemblies


def settings_of(config: Config, env: Environment):
    """What the blueprint builds `env`'s stacks from."""
    from shipyard.blueprint.stacks import Settings

    before, after = config.neighbours(env.name)
    return Settings(app=config.app, service=config.service, site=config.site, env=env, promotes_from=before, promotes_to=after,
                    database=config.database, workloads=config.services, jobs=config.jobs, topics=config.topics,
                    previews=config.previews)


def synthesize_preview(config: Config, name: str, *, slot: int, expires: str, out_dir: Path, nag: bool = False) -> EnvironmentAssembly:
    """A preview environment's one stack, inside [previews]' base environment (blueprint/preview_stack.py)."""
    use_bundled_node()
    os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")
    import aws_cdk as cdk

    from shipyard.blueprint.preview_stack import PreviewSettings, PreviewStack

    assert config.previews is not None
    base = config.environment(config.previews.base)
    preview = PreviewSettings(base=settings_of(config, base), name=name, slot=slot, expires=expires,
                              migrate=tuple(config.release.migrate_command or ()))
    directory = (out_dir / preview.env.name).resolve()
    shutil.rmtree(directory, ignore_errors=True)
    app = cdk.App(outdir=str(directory), analytics_reporting=False, stack_traces=False, builtin_cloud_formation_validation=False,
                  context={"aws:cdk:enable-path-metadata": False, "aws:cdk:disable-stack-trace": True})
    try:
        stack = PreviewStack(app, preview=preview)
        if nag:
            import cdk_nag

            cdk.Aspects.of(app).add(cdk_nag.AwsSolutionsChecks(reports=True, verbose=True))
        app.synth(validate_on_synthesis=False)
    except Exception as exc:  # jsii surfaces CDK errors as RuntimeError/JSIIError
        raise SynthError(f"synth preview {name}", str(exc).splitlines()[0], "run with --debug for the full CDK error") from exc
    artifact = StackArtifact(name=stack.stack_name, account=base.account, region=base.region,
                             template_path=directory / stack.template_file, depends_on=(),
                             parameters_from=dict(stack.parameters_from), environment=preview.env.name, tags=stack.preview_tags)
    return EnvironmentAssembly(environment=preview.env, directory=directory, stacks=(artifact,))


def _synthesize_one(config: Config, env: Environment, directory: Path, *, nag: bool,
                    customize: Callable[[list[Any]], None] | None) -> None:
    use_bundled_node()
    # A JavaScript stack trace per construct only helps debugging CDK itself.
    os.environ.setdefault("CDK_DISABLE_STACK_TRACE", "1")
    import aws_cdk as cdk

    from shipyard.blueprint.stacks import build_environment

    shutil.rmtree(directory, ignore_errors=True)
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
        stacks = build_environment(app, settings=settings_of(config, env))
        if customize is not None:
            customize(stacks)
        if nag:
            import cdk_nag

            cdk.Aspects.of(app).add(cdk_nag.AwsSolutionsChecks(reports=True, verbose=True))
        app.synth(validate_on_synthesis=False)
    except Exception as exc:  # jsii surfaces CDK errors as RuntimeError/JSIIError
        raise SynthError(f"synth {env.name}", str(exc).splitlines()[0],
                         "run with --debug for the full CDK error") from exc
    artifacts = tuple(StackArtifact(name=stack.stack_name, account=env.account, region=stack.region,
                                    template_path=directory / stack.template_file,
                                    depends_on=tuple(d.stack_name for d in stack.dependencies),
                                    parameters_from=dict(stack.parameters_from), environment=env.name)
                      for stack in stacks)
    _write_summary(EnvironmentAssembly(environment=env, directory=directory, stacks=artifacts))


def read_assembly(env: Environment, directory: Path) -> EnvironmentAssembly:
    """An environment's assembly as synth wrote it (its shipyard.json names the stacks in deploy order)."""
    summary = json.loads((directory / SUMMARY).read_text())
    stacks = tuple(StackArtifact(name=s["name"], account=env.account, region=s["region"], template_path=directory / s["template"],
                                 depends_on=tuple(s["dependsOn"]), environment=env.name,
                                 parameters_from={k: (v["stack"], v["output"]) for k, v in s["parametersFrom"].items()})
                   for s in summary["stacks"])
    return EnvironmentAssembly(environment=env, directory=directory, stacks=stacks)


SUMMARY = "shipyard.json"
KEEP = 64  # assemblies kept in the cache (a few hundred kilobytes each); the least recently used go first


def _cache_key(config: Config, env: Environment, *, nag: bool) -> str:
    """Everything an environment's templates depend on: the blueprint's inputs (the models' reprs name every
    field), shipyard's code, and the CDK libraries that turn them into templates."""
    before, after = config.neighbours(env.name)
    inputs = [repr(model) for model in (config.app, config.service, config.site, env, before, after, config.database,
                                        config.services, config.jobs, config.topics, config.previews)]
    code = content_cache.code_version(Path(__file__).parent, "aws-cdk-lib", "constructs", "cdk-nag")
    return content_cache.digest(code, *inputs, f"nag={nag}")


def _cache_path(key: str) -> Path:
    return content_cache.directory() / "synth" / key


def _restore(key: str, directory: Path) -> bool:
    """Copy a kept assembly to `directory`; False when there is none (or it cannot be read)."""
    kept = _cache_path(key)
    if not (kept / SUMMARY).is_file():
        return False
    try:
        shutil.rmtree(directory, ignore_errors=True)
        shutil.copytree(kept, directory)
        os.utime(kept)  # recently used: pruned last
    except OSError:
        return False
    return True


def _keep(key: str, directory: Path) -> None:
    root = content_cache.directory() / "synth"
    try:
        root.mkdir(parents=True, exist_ok=True)
        # Copied under a temporary name and renamed, so a reader never sees half an assembly.
        staging = Path(tempfile.mkdtemp(dir=root, prefix=".incoming-"))
        shutil.copytree(directory, staging, dirs_exist_ok=True)
        try:
            staging.rename(_cache_path(key))
        except OSError:  # another process kept the same assembly first
            shutil.rmtree(staging, ignore_errors=True)
        entries = sorted((p for p in root.iterdir() if not p.name.startswith(".")), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass  # a read-only or full cache only costs time


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
    (assembly.directory / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
