"""Releases with schema migrations on the embedded AWS's real PostgreSQL: the expand phase runs in a one-off task
of the new image before the rollout, the contract phase after the health gate; a failed migration stops the release
with nothing rolled out; a code fault after an expand migration rolls back and the app keeps working; a rollback
past a contract migration is refused (exit 4) naming it; `shipyard run` exits with the task's exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request

import pytest

from shipyard.deploy.state import edge_url
from shipyard.errors import ExitCode, Refused
from shipyard.release import history
from shipyard.release.release import ReleaseFailed, current_digest, release, rollback
from tests.conftest import example_in_accounts, own_example_fixtures
from tests.release.conftest import build_image, release_options


@pytest.fixture(scope="module")
def own_staging(local_aws, own_accounts, tmp_path_factory):
    """A contract migration stays applied, and the release history remembers it: the example's staging in accounts
    of its own (the staging the other release tests share never has one). Only staging is released here."""
    return example_in_accounts(local_aws, own_accounts, tmp_path_factory, ["staging"])


example_config, assemblies, deployed = own_example_fixtures("own_staging")


ADD_COLUMN = "ALTER TABLE items ADD COLUMN note text;\n"
DROP_COLUMN = "ALTER TABLE items DROP COLUMN note;\n"


def _items(url: str, name: str | None = None) -> dict:
    data = json.dumps({"name": name}).encode() if name else None
    request = urllib.request.Request(url + "/api/items", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _columns(local_aws, env) -> list[str]:
    from shipyard.localaws.rds import postgres

    server = postgres.find(f"{env.account}/{env.region}/{env.names.database}")
    return server.sql("SELECT column_name FROM information_schema.columns WHERE table_name = 'items' ORDER BY 1").split()


def test_expand_then_fault_rolls_back_and_contract_blocks_rollback(deployed, assemblies, example_config, local_aws):
    staging, aws = assemblies["staging"], deployed["staging"]
    env, path = staging.environment, example_config.service.health_check_path
    first = build_image(aws, env, "schema001")
    outcome = release(aws, staging, first.reference, release_options(example_config), health_path=path)
    assert outcome.attempt.verdict == "released"
    assert history.read(aws, env)[0].schema == "0001"
    url = edge_url(aws, env)
    written = _items(url, "before the expand")
    assert _items(url)["items"][0]["id"] == written["id"]  # written, then read back through the edge

    # An expand migration and code that crashes: the column stays, the release rolls back, the old code works on.
    faulty = build_image(aws, env, "schema002", "crash", migrations={"0002_add_note.expand.sql": ADD_COLUMN})
    with pytest.raises(ReleaseFailed) as failed:
        release(aws, staging, faulty.reference, release_options(example_config), health_path=path)
    assert failed.value.outcome.rolled_back_to == first.digest and failed.value.outcome.rollback.verdict == "released"
    assert "note" in _columns(local_aws, env)
    assert _items(url, "after the rollback")["name"] == "after the rollback"

    # A contract migration with working code: applied after the gate, recorded; rolling back past it is refused.
    contract = build_image(aws, env, "schema003", migrations={"0002_add_note.expand.sql": ADD_COLUMN,
                                                              "0003_drop_note.contract.sql": DROP_COLUMN})
    outcome = release(aws, staging, contract.reference, release_options(example_config), health_path=path)
    assert outcome.attempt.verdict == "released"
    record = history.read(aws, env)[0]
    assert record.contracts == ("0003_drop_note.contract.sql",) and record.schema == "0003"
    assert "note" not in _columns(local_aws, env)
    with pytest.raises(Refused) as refused:
        rollback(aws, staging, release_options(example_config), health_path=path)
    assert refused.value.exit_code == ExitCode.REFUSED
    assert "0003_drop_note.contract.sql" in refused.value.what and "restore-db-instance-to-point-in-time" in refused.value.hint
    assert current_digest(aws, env) == contract.digest  # nothing was changed


def test_a_failed_migration_stops_the_release_with_nothing_rolled_out(deployed, assemblies, example_config):
    staging, aws = assemblies["staging"], deployed["staging"]
    env, path = staging.environment, example_config.service.health_check_path
    running = current_digest(aws, env)
    broken = build_image(aws, env, "schema004", migrations={"0009_broken.expand.sql": "ALTER TABLE no_such_table ADD COLUMN x int;\n"})
    with pytest.raises(ReleaseFailed) as failed:
        release(aws, staging, broken.reference, release_options(example_config), health_path=path)
    assert "expand migrations" in failed.value.what and "nothing was rolled out" in failed.value.what
    assert failed.value.outcome.rollback is None
    assert current_digest(aws, env) == running
    assert history.read(aws, env)[0].verdict == "failed"


def test_shipyard_run_exits_with_the_tasks_exit_code(released, local_aws, example_config):
    # The target options after the environment, as the pipeline passes --aws --profile to every other command.
    command = [sys.executable, "-m", "shipyard", "run", "staging", "--endpoint", local_aws.endpoint, "--timeout", "60", "--",
               "python", "-c", "import sys; print('from the task'); sys.exit(3)"]
    done = subprocess.run(command, cwd=example_config.directory, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "from the task" in done.stdout + done.stderr


def test_verify_checks_the_database_and_catches_an_open_security_group(deployed, assemblies, example_config):
    from shipyard.deploy.verify import verify

    staging, aws = assemblies["staging"], deployed["staging"]
    results = {r.id: r for r in verify(aws, staging, example_config.app, drift=False)}
    assert results["SY-E801"].passed and results["SY-E802"].passed, (results["SY-E801"], results["SY-E802"])
    assert "rotated" in results["SY-E801"].detail
    env = staging.environment
    instance = aws.call("rds", "DescribeDBInstances", env.region, DBInstanceIdentifier=env.names.database)["DBInstances"][0]
    group = instance["VpcSecurityGroups"][0]["VpcSecurityGroupId"]
    aws.call("ec2", "AuthorizeSecurityGroupIngress", env.region, GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    try:
        failed = {r.id: r.detail for r in verify(aws, staging, example_config.app, drift=False) if not r.passed}
        assert set(failed) == {"SY-E802"} and "0.0.0.0/0" in failed["SY-E802"], failed
    finally:
        aws.call("ec2", "RevokeSecurityGroupIngress", env.region, GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])


def test_verify_catches_a_public_database(deployed, assemblies, example_config):
    from shipyard.deploy.verify import verify

    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    aws.call("rds", "ModifyDBInstance", env.region, DBInstanceIdentifier=env.names.database, PubliclyAccessible=True, ApplyImmediately=True)
    try:
        failed = {r.id: r.detail for r in verify(aws, staging, example_config.app) if not r.passed}
        assert set(failed) == {"SY-E801", "SY-E901"} and "publicly accessible" in failed["SY-E801"], failed
        assert "/PubliclyAccessible: expected false, actual true" in failed["SY-E901"]  # drift detection, named
    finally:
        aws.call("rds", "ModifyDBInstance", env.region, DBInstanceIdentifier=env.names.database, PubliclyAccessible=False,
                 ApplyImmediately=True)


def test_ctrl_c_stops_the_one_off_task(released, assemblies, local_aws, example_config):
    import signal
    import time

    env, aws = assemblies["staging"].environment, released
    command = [sys.executable, "-m", "shipyard", "run", "staging", "--", "python", "-c",
               "import time; print('working', flush=True); time.sleep(120)"]
    process = subprocess.Popen(command, cwd=example_config.directory, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "SHIPYARD_ENDPOINT": local_aws.endpoint})
    deadline = time.monotonic() + 60
    output = ""
    while "working" not in output and time.monotonic() < deadline:
        output += process.stdout.readline()
    assert "working" in output, output
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == ExitCode.INTERRUPTED, output + rest
    assert "the task was stopped" in rest
    tasks = aws.call("ecs", "ListTasks", env.region, cluster=env.names.cluster, desiredStatus="STOPPED")["taskArns"]
    described = aws.call("ecs", "DescribeTasks", env.region, cluster=env.names.cluster, tasks=tasks)["tasks"]
    assert any("interrupted (Ctrl-C)" in t.get("stoppedReason", "") for t in described)
