"""Scheduled jobs on the embedded AWS: a job's image is released with the set and judged (with --smoke, by a run);
`shipyard run --job` runs it now and says how it ended; a run that exits non-zero or passes its timeout fails, and
its task is stopped; the schedule starts runs at the embedded AWS's pace.

The example, without its database, plus [jobs.tally], in this module's own accounts; production only receives
promotions."""

from __future__ import annotations

import json
import time

import pytest

from shipyard.app.local_images import build_local_image
from shipyard.config import load_config
from shipyard.release.attempt import Workload
from shipyard.release.release import ReleaseFailed, release
from shipyard.synth import synthesize
from tests.release.conftest import build_image, release_options, stdlib_dockerfile

from ..conftest import copy_example, deploy_example, in_accounts, without_database

pytestmark = pytest.mark.long

JOB = '''\
import sys, time

MODE = "ok"
print("tallying (" + MODE + ")", flush=True)
if MODE == "hang":
    time.sleep(3600)
sys.exit(3 if MODE == "fail" else 0)
'''
DOCKERFILE = stdlib_dockerfile("tally.py")
# Six hours between runs: the schedule stays quiet unless a test makes it fire. One minute of timeout: 5 s here.
TALLY = """
[jobs.tally]
directory = "tally"
schedule = "rate(6 hours)"
timeout_minutes = 1
retries = 0
"""


def _tally(directory, mode: str = "ok"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(DOCKERFILE)
    (directory / "tally.py").write_text(JOB.replace('MODE = "ok"', f"MODE = {mode!r}"))
    return directory


@pytest.fixture(scope="module")
def both(local_aws, own_accounts, tmp_path_factory):
    """(config, assembly by environment, Aws by environment): staging and production deployed."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("jobs") / "app"), own_accounts)
    _tally(path.parent / "tally")
    text = without_database(path.read_text())
    at = text.index("\n[defaults]")
    path.write_text(text[:at] + TALLY + text[at:])
    config = load_config(path)
    assemblies = {a.environment.name: a for a in synthesize(config, config.select(None), tmp_path_factory.mktemp("out"))}
    return config, assemblies, deploy_example(local_aws, assemblies, config)


@pytest.fixture(scope="module")
def app(both):
    config, assemblies, sessions = both
    return config, assemblies["staging"], sessions["staging"]


def _image(aws, env, directory, tag):
    return build_local_image(aws, env.workload_view("tally"), directory=directory, tag=tag, architecture=env.architecture,
                             command=None, vulnerable=False).image


def _release(aws, staging, config, service, tally, **options):
    return release(aws, staging, service.reference, release_options(config, **options), health_path=config.service.health_check_path,
                   workloads=(Workload("tally", None, tally.reference, "job"),))


def _runs(aws, env):
    return aws.stepfunctions(env.region).executions(env.workload_view("tally").names.state_machine, newest=50)


def test_a_job_is_released_with_the_set_and_run_now_by_its_command(app, tmp_path, cli):
    config, staging, aws = app
    env = staging.environment
    names = env.workload_view("tally").names
    schedule = aws.scheduler(env.region).schedule(names.schedule)
    assert schedule.state == "DISABLED"  # no image yet: nothing to run
    machine = aws.call("stepfunctions", "DescribeStateMachine", env.region,
                       stateMachineArn=aws.stepfunctions(env.region).machine_arn(names.state_machine))
    assert machine["loggingConfiguration"]["level"] == "ALL" and machine["tracingConfiguration"] == {"enabled": True}
    service, tally = build_image(aws, env, "jobs-1"), _image(aws, env, _tally(tmp_path / "ok"), "tally-1")
    outcome = _release(aws, staging, config, service, tally, smoke=True)
    assert outcome.attempt.released and outcome.attempt.workloads == {"tally": tally.digest}
    [smoke] = _runs(aws, env)
    assert smoke.name.startswith("smoke-") and smoke.status == "SUCCEEDED"
    assert aws.scheduler(env.region).schedule(names.schedule).state == "ENABLED"

    ran = cli("--config", str(config.path), "run", "staging", "--job", "tally", "--endpoint", aws.target.endpoint)
    assert ran.code == 0 and "tally run manual-" in ran.err and "succeeded (exit code 0)" in ran.err, ran.err
    from shipyard.diagnose.status import status

    [state] = status(aws, staging, ("tally",), ("tally",)).workloads
    assert state.schedule == "rate(6 hours) UTC (enabled)" and state.image == tally.digest
    assert state.last_run.startswith("manual-") and " succeeded at " in state.last_run, state.last_run
    unknown = cli("--config", str(config.path), "run", "staging", "--job", "nightly", "--endpoint", aws.target.endpoint)
    assert unknown.code == 2 and "--job nightly: is not a job of shipyard.toml; jobs: tally" in unknown.err, unknown.err


def test_a_job_that_exits_non_zero_fails_its_smoke_run_and_the_set_goes_back(app, tmp_path, cli, monkeypatch):
    from shipyard.app import releases

    config, staging, aws = app
    env = staging.environment
    good = aws.ssm(env.region).get(env.workload_view("tally").names.image_parameter)
    failing = _image(aws, env, _tally(tmp_path / "fail", "fail"), "tally-2")
    with pytest.raises(ReleaseFailed) as failed:
        _release(aws, staging, config, build_image(aws, env, "jobs-1"), failing, smoke=True)
    outcome = failed.value.outcome
    assert any("tally: the smoke run smoke-" in r and "failed: NonZeroExit" in r for r in outcome.attempt.reasons), outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released, outcome.rollback.reasons
    # The command line's --smoke, on the job alone (--service): the same verdict.
    monkeypatch.setattr(releases, "require_policy", lambda *_: None)  # deploy's gate, tested with it
    said = cli("--config", str(config.path), "release", "staging", "--service", "tally", "--image", failing.reference, "--smoke",
               "--endpoint", aws.target.endpoint)
    assert said.code != 0 and "tally: the smoke run smoke-" in said.err and "NonZeroExit" in said.err, said.err
    from shipyard.diagnose.explain import explain

    links = explain(aws, staging, None, workload="tally", job=True)
    runs = [link for link in links if link.link == "runs"]
    assert runs[0].detail.startswith("newest run smoke-") and not runs[0].broken  # the rollback's smoke run passed
    assert any(link.detail.startswith("earlier run smoke-") and link.detail.endswith(": failed") for link in runs), runs
    assert any(link.link == "logs" and "tallying (fail)" in link.detail for link in links), links
    assert aws.ssm(env.region).get(env.workload_view("tally").names.image_parameter) == good


def test_a_run_past_its_timeout_fails_and_its_task_is_stopped(app, tmp_path, cli):
    config, staging, aws = app
    env = staging.environment
    hanging = _image(aws, env, _tally(tmp_path / "hang", "hang"), "tally-3")
    assert _release(aws, staging, config, build_image(aws, env, "jobs-1"), hanging).attempt.released  # no --smoke: not run
    ran = cli("--config", str(config.path), "run", "staging", "--job", "tally", "--endpoint", aws.target.endpoint)
    assert ran.code == 1 and "failed: States.Timeout" in ran.err, ran.err
    names = env.workload_view("tally").names
    ecs = aws.ecs(env.region)
    stopped = [t for t in ecs.tasks(names.cluster, aws.call("ecs", "ListTasks", env.region, cluster=names.cluster,
                                                            desiredStatus="STOPPED")["taskArns"])
               if names.task_family in t.task_definition]
    assert any("timed out" in t.stopped_reason for t in stopped), [t.stopped_reason for t in stopped]
    explained = cli("--config", str(config.path), "explain", "staging", "--service", "tally", "--endpoint", aws.target.endpoint)
    assert "newest run manual-" in explained.out + explained.err and "(States.Timeout)" in explained.out + explained.err, explained.out


def test_the_schedule_starts_runs_at_the_embedded_aws_pace(app, tmp_path):
    """rate(1 minute) lasts 3 s at the release tests' pace: a run starts within a few of them, named by the schedule."""
    config, staging, aws = app
    env = staging.environment
    names = env.workload_view("tally").names
    assert _release(aws, staging, config, build_image(aws, env, "jobs-1"), _image(aws, env, _tally(tmp_path / "ok"), "tally-4")).attempt.released
    found = aws.call("scheduler", "GetSchedule", env.region, Name=names.schedule)
    keep = {key: found[key] for key in ("FlexibleTimeWindow", "Target", "State", "ScheduleExpressionTimezone")}
    aws.call("scheduler", "UpdateSchedule", env.region, Name=names.schedule, ScheduleExpression="rate(1 minute)", **keep)
    try:
        deadline, fired = time.monotonic() + 30, []
        while time.monotonic() < deadline and not any(r.status == "SUCCEEDED" for r in fired):
            time.sleep(0.5)
            fired = [r for r in _runs(aws, env) if r.name.startswith(names.schedule)]
        assert any(r.status == "SUCCEEDED" for r in fired), fired
    finally:
        aws.call("scheduler", "UpdateSchedule", env.region, Name=names.schedule, ScheduleExpression="rate(6 hours)", **keep)


def test_a_start_the_scheduler_cannot_make_goes_to_the_jobs_dead_letter_queue(app):
    """A schedule whose target is gone: no retries allowed, so its first invocation lands in the dead-letter queue with
    Scheduler's error attributes."""
    _, staging, aws = app
    env = staging.environment
    names = env.workload_view("tally").names
    found = aws.call("scheduler", "GetSchedule", env.region, Name=names.schedule)
    keep = {key: found[key] for key in ("FlexibleTimeWindow", "State", "ScheduleExpressionTimezone")}
    gone = {**found["Target"], "Arn": found["Target"]["Arn"] + "-gone", "RetryPolicy": {"MaximumRetryAttempts": 0,
                                                                                        "MaximumEventAgeInSeconds": 60}}
    aws.call("scheduler", "UpdateSchedule", env.region, Name=names.schedule, ScheduleExpression="rate(1 minute)", Target=gone, **keep)
    queue = aws.sqs(env.region).queue(names.dead_letter_queue)
    try:
        deadline, messages = time.monotonic() + 30, []
        while time.monotonic() < deadline and not messages:
            messages = aws.call("sqs", "ReceiveMessage", env.region, QueueUrl=queue.url, WaitTimeSeconds=1,
                                MessageAttributeNames=["All"]).get("Messages", [])
        assert messages, "nothing reached the dead-letter queue"
        attributes = {k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()}
        assert attributes["ERROR_CODE"] == "TargetInvocationFailed" and attributes["TARGET_ARN"].endswith("-gone"), attributes
    finally:
        aws.call("scheduler", "UpdateSchedule", env.region, Name=names.schedule, ScheduleExpression="rate(6 hours)",
                 Target=found["Target"], **keep)


def test_verify_names_a_schedule_role_widened_by_hand(app):
    from shipyard.deploy.verify import verify

    config, staging, aws = app
    env = staging.environment
    assert {r.id for r in verify(aws, staging, config.app, drift=False) if not r.passed} == set()
    role = env.workload_view("tally").names.scheduler_role
    aws.call("iam", "PutRolePolicy", "us-east-1", RoleName=role, PolicyName="by-hand", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}]}))
    try:
        [failed] = [r for r in verify(aws, staging, config.app, drift=False) if not r.passed]
        assert failed.id == "SY-E303" and f"{role}: allows ecs:RunTask on *" in failed.detail, failed
    finally:
        aws.call("iam", "DeleteRolePolicy", "us-east-1", RoleName=role, PolicyName="by-hand")


def test_promote_service_moves_the_jobs_image_alone(both, tmp_path, cli, monkeypatch):
    from shipyard.app import releases
    from shipyard.release.release import current_digest, promote

    config, assemblies, sessions = both
    staging, production = assemblies["staging"], assemblies["production"]
    s_aws, p_aws = sessions["staging"], sessions["production"]
    path = config.service.health_check_path
    # Production runs staging's set first, as a whole.
    assert promote(s_aws, staging, p_aws, production, release_options(config), health_path=path,
                   workloads=(Workload("tally", None, None, "job"),)).attempt.released
    primary = current_digest(p_aws, production.environment)
    newer = _image(s_aws, staging.environment, _tally(tmp_path / "newer"), "tally-5")
    assert _release(s_aws, staging, config, build_image(s_aws, staging.environment, "jobs-1"), newer).attempt.released
    monkeypatch.setattr(releases, "require_policy", lambda *_: None)  # deploy's gate, tested with it
    said = cli("--config", str(config.path), "promote", "staging", "production", "--service", "tally", "--yes",
               "--endpoint", p_aws.target.endpoint)
    assert said.code == 0, said.err
    tally = production.environment.workload_view("tally").names.image_parameter
    assert p_aws.ssm(production.environment.region).get(tally).endswith(newer.digest)
    assert current_digest(p_aws, production.environment) == primary  # [service] kept what it runs
