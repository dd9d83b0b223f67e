"""Shared fixtures: the example config, its synthesized assemblies, a CLI runner."""

from __future__ import annotations

import os
import sys
import zlib
from collections.abc import Iterator
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
    """Both environments of the example, synthesized once per test session: one worker synthesizes while the others
    wait for it, then copy its assemblies from shipyard's synth cache."""
    import fcntl

    from shipyard.synth import synthesize

    out = tmp_path_factory.mktemp("cdk.out")
    lock = Path(os.environ["SHIPYARD_CACHE_DIR"]) / "example-synth.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return {a.environment.name: a for a in synthesize(example_config, example_config.select(None), out)}


@pytest.fixture(scope="session")
def templates(assemblies) -> dict[str, dict]:
    """Template of every stack of the example, by stack name."""
    return {s.name: s.template() for a in assemblies.values() for s in a.stacks}


# A test that takes one of these runs the embedded AWS: marked `embedded`, left out of the fast tier.
EMBEDDED_FIXTURES = {"local_aws", "deployed", "own_example"}


def pytest_collection_modifyitems(items):
    for item in items:
        if EMBEDDED_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.embedded)
    # Workers take whole modules (--dist loadfile) in this order: the long ones first, then the rest of those that run
    # the embedded AWS, so the short ones fill the gaps at the end instead of one long module running alone.
    items.sort(key=lambda item: (item.get_closest_marker("long") is None, item.get_closest_marker("embedded") is None))


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


@pytest.fixture(scope="session")
def local_aws():
    """The embedded AWS of this test process, shared by every module; `deployed` puts the example on it once.

    moto keeps its state process-wide, so a process runs one embedded AWS (a second one is refused): `shipyard up`
    runs in a process of its own in tests. Tests that change what is deployed undo it, or leave a state every later
    test accepts (a release, a rollback). A module that needs fresh accounts takes them from `own_accounts`.
    """
    from shipyard.app.target import embedded_aws

    with embedded_aws() as server:
        _EMBEDDED_STARTED.append(True)
        yield server


STAGING_ACCOUNT, PRODUCTION_ACCOUNT = "111111111111", "222222222222"


def accounts_of(module: str) -> tuple[str, str]:
    """Two account ids (staging, production) that only `module` uses on the shared embedded AWS."""
    base = zlib.crc32(module.encode()) % 10**11
    return f"5{base:011d}", f"6{base:011d}"


def in_accounts(config: Path, accounts: tuple[str, str]) -> Path:
    """shipyard.toml at `config` with the example's two accounts replaced by `accounts`."""
    text = config.read_text().replace(STAGING_ACCOUNT, accounts[0]).replace(PRODUCTION_ACCOUNT, accounts[1])
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def own_accounts(request) -> Iterator[tuple[str, str]]:
    """(staging, production) account ids of this module's own: what it deploys there touches no other module.
    Once the module is done, its ECS services are deleted: their tasks and health checks would otherwise keep two
    cores busy for the rest of the session (the stacks stay, for nothing reads them after)."""
    accounts = accounts_of(request.module.__name__)
    yield accounts
    if _EMBEDDED_STARTED:
        stop_services(request.getfixturevalue("local_aws"), accounts)


def _live_checks() -> int:
    from shipyard.deploy.verify import DRIFT_RULE, LIVE_RULES

    return len([rule for rule in LIVE_RULES if rule is not DRIFT_RULE])


LIVE_CHECKS = _live_checks()  # verify's checks of an environment but drift detection: what `up` runs and reports
REGIONS = ("eu-west-1", "us-east-1")  # where the tests' apps run
_EMBEDDED_STARTED: list[bool] = []  # the embedded AWS of this process has started (local_aws)


def stop_services(local_aws, accounts: tuple[str, ...]) -> None:
    """Delete every ECS service in `accounts` (force: with their tasks), in every region the example uses."""
    from shipyard.app.target import embedded
    from shipyard.aws import Aws

    for account in accounts:
        aws = Aws(embedded(local_aws.endpoint), account)
        for region in REGIONS:
            for cluster in aws.call("ecs", "ListClusters", region)["clusterArns"]:
                for service in aws.call("ecs", "ListServices", region, cluster=cluster)["serviceArns"]:
                    aws.call("ecs", "DeleteService", region, cluster=cluster, service=service, force=True)


@pytest.fixture(scope="session")
def deployed(local_aws, assemblies, example_config):
    """Both example environments deployed to the shared embedded AWS, site published: once per test process."""
    return deploy_example(local_aws, assemblies, example_config)


def deploy_example(local_aws, assemblies, config) -> dict:
    """Every environment of `assemblies` deployed and its site published; an Aws per environment."""
    from shipyard.app.target import embedded
    from shipyard.aws import Aws
    from shipyard.deploy.execute import DeployOptions, deploy
    from shipyard.deploy.site import publish_environment

    target = embedded(local_aws.endpoint)
    sessions = {}
    for name, assembly in assemblies.items():
        aws = Aws(target, assembly.environment.account)
        deploy(aws, assembly, DeployOptions())
        publish_environment(aws, assembly.environment, config.site_directory)
        sessions[name] = aws
    return sessions


# A web workload beside [service], as the workload tests add it to the example (before its [defaults]).
ADMIN_WORKLOAD = """
[services.admin]
kind = "web"
directory = "admin"
routes = ["/admin/*"]
health_check_path = "/admin/healthz"
port = 8100
"""


def without_database(text: str) -> str:
    """The example's shipyard.toml without its [database] (and [release], whose migrations need it)."""
    for table in ("[database]", "[release]"):
        start = text.index(table)
        text = text[:start] + text[text.index("\n[", start + 1) + 1:]
    return text


def example_in_accounts(local_aws, accounts: tuple[str, str], tmp_path_factory, environments: list[str] | None = None, *,
                        database: bool = True):
    """The example in `accounts`, synthesized and deployed (every environment, or those named; without its database
    where a module needs none, which spares a PostgreSQL server): (config, assemblies, an Aws per environment)."""
    from shipyard.synth import synthesize

    path = in_accounts(copy_example(tmp_path_factory.mktemp("own") / "app"), accounts)
    if not database:
        path.write_text(without_database(path.read_text()))
    config = load_config(path)
    assemblies = {a.environment.name: a for a in synthesize(config, config.select(environments), tmp_path_factory.mktemp("cdk.out"))}
    return config, assemblies, deploy_example(local_aws, assemblies, config)


@pytest.fixture(scope="module")
def own_example(local_aws, own_accounts, tmp_path_factory):
    """The example in this module's own accounts, synthesized and deployed: (config, assemblies, an Aws per environment).

    For a module that leaves the example in a state the others would not accept (a contract migration)."""
    return example_in_accounts(local_aws, own_accounts, tmp_path_factory)


def own_example_fixtures(source: str = "own_example"):
    """example_config, assemblies and deployed for a module of its own accounts: `example_config, assemblies, deployed
    = own_example_fixtures()` at the top of the module overrides the shared ones for its tests (and their fixtures).
    source: the module fixture that gives (config, assemblies, an Aws per environment)."""

    @pytest.fixture(scope="module")
    def example_config(request):
        return request.getfixturevalue(source)[0]

    @pytest.fixture(scope="module")
    def assemblies(request):
        return request.getfixturevalue(source)[1]

    @pytest.fixture(scope="module")
    def deployed(request):
        return request.getfixturevalue(source)[2]

    return example_config, assemblies, deployed


def copy_example(target: Path) -> Path:
    """A private copy of the example app (shipyard.toml, site and service without its tests) in `target`."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLE_CONFIG, target / "shipyard.toml")
    shutil.copytree(EXAMPLE / "site", target / "site")
    shutil.copytree(EXAMPLE / "service", target / "service", ignore=shutil.ignore_patterns("tests", "__pycache__"))
    return target / "shipyard.toml"


@pytest.fixture
def example_copy(tmp_path):
    """A private copy of the example app (shipyard.toml and site), so tests can change it."""
    return copy_example(tmp_path / "app")
