"""Shared fixtures: the example config, its synthesized assemblies, a CLI runner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shipyard.config import Config, load_config
from shipyard.node import use_bundled_node

# Before any test imports aws_cdk, so jsii starts the wheel's Node.js.
use_bundled_node()

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "webapp"
EXAMPLE_CONFIG = EXAMPLE / "shipyard.toml"

# Check results are content-addressed, so every test may share them; kept out of the user's own cache.
os.environ.setdefault("SHIPYARD_CACHE_DIR", str(ROOT / ".pytest_cache" / "shipyard"))


@pytest.fixture(scope="session")
def example_config() -> Config:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="session")
def assemblies(example_config, tmp_path_factory):
    """Both environments of the example, synthesized once per test session."""
    from shipyard.synth import synthesize

    out = tmp_path_factory.mktemp("cdk.out")
    return {a.environment.name: a for a in synthesize(example_config, example_config.select(None), out)}


@pytest.fixture(scope="session")
def templates(assemblies) -> dict[str, dict]:
    """Template of every stack of the example, by stack name."""
    return {s.name: s.template() for a in assemblies.values() for s in a.stacks}


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the real console entry point in-process; returns exit code, stdout, stderr."""
    from shipyard import cli as cli_module

    def run(*args: str) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["shipyard", *args])
        monkeypatch.setattr(cli_module.state, "debug", False)
        code = 0
        try:
            cli_module.run()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="module")
def local_aws():
    """A fresh embedded AWS per test module (its state is the module's own)."""
    from shipyard.app.target import embedded_aws

    with embedded_aws() as server:
        yield server


@pytest.fixture(scope="module")
def deployed(local_aws, assemblies, example_config):
    """Both example environments deployed to this module's embedded AWS, site published."""
    from shipyard.app.target import embedded
    from shipyard.aws import Aws
    from shipyard.deploy.execute import DeployOptions, deploy
    from shipyard.deploy.site import publish_environment

    target = embedded(local_aws.endpoint)
    sessions = {}
    for name, assembly in assemblies.items():
        aws = Aws(target, assembly.environment.account)
        deploy(aws, assembly, DeployOptions())
        publish_environment(aws, assembly.environment, example_config.site_directory)
        sessions[name] = aws
    return sessions


@pytest.fixture
def example_copy(tmp_path):
    """A private copy of the example app (shipyard.toml and site), so tests can change it."""
    import shutil

    target = tmp_path / "app"
    target.mkdir()
    shutil.copy(EXAMPLE_CONFIG, target / "shipyard.toml")
    shutil.copytree(EXAMPLE / "site", target / "site")
    shutil.copytree(EXAMPLE / "service", target / "service", ignore=shutil.ignore_patterns("tests", "__pycache__"))
    return target / "shipyard.toml"
