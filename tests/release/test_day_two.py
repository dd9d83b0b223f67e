"""Day two on the embedded AWS: logs of real requests, exec into a task, and awake hours (issue 17)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from shipyard.deploy.state import edge_url
from shipyard.diagnose import task_exec
from shipyard.diagnose.explain import explain
from shipyard.diagnose.status import status
from shipyard.errors import UsageError
from shipyard.release import awake
from shipyard.release.release import current_digest, release
from tests.release.conftest import build_image, release_options

from ..conftest import EXAMPLE_CONFIG

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


def _shipyard(local_aws, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "shipyard", *args], cwd=EXAMPLE_CONFIG.parent, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env={**os.environ, "SHIPYARD_ENDPOINT": local_aws.endpoint}, **kwargs)


def _request_id(url: str) -> str:
    with urllib.request.urlopen(url + "/api/items", timeout=10) as response:
        return response.headers["x-request-id"]


def test_logs_show_the_requests_made_through_the_edge(released, assemblies, local_aws):
    env = assemblies["staging"].environment
    ids = [_request_id(edge_url(released, env)) for _ in range(3)]
    process = _shipyard(local_aws, "logs", "staging", "--since", "5m")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    lines = [line for line in out.splitlines() if any(i in line for i in ids)]
    assert len(lines) == 3 and all(" 200  GET    /api/items" in line for line in lines), out[-2000:]
    stamps = [line[:19] for line in out.splitlines()]
    assert stamps == sorted(stamps)  # oldest first
    # JSON lines for scripts, the request's fields parsed; --filter keeps what contains the text.
    process = _shipyard(local_aws, "logs", "staging", "--since", "5m", "--format", "json", "--filter", ids[0])
    out, err = process.communicate(timeout=120)
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["fields"]["request_id"] for e in events] == [ids[0]], err


def test_logs_follow_shows_new_requests_and_stops_cleanly_on_ctrl_c(released, assemblies, local_aws):
    env = assemblies["staging"].environment
    process = _shipyard(local_aws, "logs", "staging", "--since", "1s", "--follow")
    deadline = time.monotonic() + 60
    mode = ""
    while "polling" not in mode and time.monotonic() < deadline:
        mode += process.stderr.readline()
    assert "live tail" in mode and "polling every 1 to 5 s" in mode, mode  # Live Tail first; its session closed
    wanted = _request_id(edge_url(released, env))
    seen = ""
    while wanted not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    assert wanted in seen
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=30)
    assert process.returncode == 0 and "Traceback" not in rest and "interrupted" not in rest, rest


def test_exec_env_prints_the_environment_without_secret_values_in_any_log(released, assemblies, local_aws):
    env = assemblies["staging"].environment
    secret = released.call("secretsmanager", "ListSecrets", env.region)["SecretList"]
    password = json.loads(released.call("secretsmanager", "GetSecretValue", env.region,
                                       SecretId=secret[0]["ARN"])["SecretString"])["password"]
    process = _shipyard(local_aws, "exec", "staging", "--yes", "--", "env")  # an option after the environment, too
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "SHIPYARD_ENVIRONMENT=staging" in out and "PGPASSWORD=****" in out and "PGHOST=127.0.0.1" in out
    assert password not in out + err
    # The session is logged (ECS Exec logging OVERRIDE to the exec group), masked as the terminal saw it.
    streams = released.call("logs", "DescribeLogStreams", env.region, logGroupName=env.names.exec_log_group)["logStreams"]
    assert streams
    for group in released.paginate("logs", "DescribeLogGroups", env.region, "logGroups"):
        events = released.paginate("logs", "FilterLogEvents", env.region, "events", logGroupName=group["logGroupName"])
        assert not [e for e in events if password in e["message"]], group["logGroupName"]
    logged = released.paginate("logs", "FilterLogEvents", env.region, "events", logGroupName=env.names.exec_log_group)
    assert any(e["message"] == "PGPASSWORD=****" for e in logged)


def test_exec_is_refused_where_it_is_off_and_without_the_session_plugin(deployed, assemblies, monkeypatch):
    production = assemblies["production"].environment
    with pytest.raises(UsageError, match="has ECS Exec off"):
        task_exec.execute(deployed["production"], production, ("true",), ["env"], None, None)
    monkeypatch.setattr(task_exec.shutil, "which", lambda name: None)
    with pytest.raises(UsageError) as missing:
        task_exec.plugin_command(None)
    assert "session-manager-plugin" in missing.value.what and "install" in missing.value.hint


def test_an_exec_into_a_task_started_before_exec_was_on_is_refused_as_ecs_does(released, assemblies):
    env = assemblies["staging"].environment
    task = task_exec.choose_task(released, env, None)
    from shipyard.localaws.ecs import task_runtime

    started = task_runtime.find(task.arn)
    started.exec_enabled = False
    try:
        with pytest.raises(UsageError, match="started before ECS Exec was on"):
            task_exec.execute(released, env, ("true",), ["env"], task.id, None)
    finally:
        started.exec_enabled = True


@pytest.fixture(autouse=True)
def no_wake_outlives_its_test(deployed, assemblies):
    """A wake for a release ends by a one-time scheduled action hours later (compressed: minutes); one left pending
    would put staging to sleep under a later module's release."""
    yield
    env = assemblies["staging"].environment
    from shipyard.aws import AwsError

    with contextlib.suppress(AwsError):  # none was left
        deployed["staging"].call("application-autoscaling", "DeleteScheduledAction", env.region, ServiceNamespace="ecs",
                                 ScheduledActionName=awake.WAKE_ENDS, ResourceId=f"service/{env.names.cluster}/{env.names.service}",
                                 ScalableDimension="ecs:service:DesiredCount")


def test_a_sleeping_staging_is_said_so_and_a_release_wakes_it_until_its_wake_ends(released, assemblies, example_config, local_aws,
                                                                                 monkeypatch):
    staging = assemblies["staging"]
    env = staging.environment
    local_aws.run_scheduled_action(env.account, env.region, "Sleep")
    deadline = time.monotonic() + 30
    while released.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                       services=[env.names.service])["services"][0]["desiredCount"] != 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    report = status(released, staging)
    assert report.desired == 0 and report.schedule.startswith("asleep until") and env.awake in report.schedule
    first_broken = next(link for link in explain(released, staging, None) if link.broken)
    assert first_broken.link == "schedule" and "asleep until" in first_broken.detail and "release" in first_broken.hint
    image = build_image(released, env, "daytwo001")
    outcome = release(released, staging, image.reference, release_options(example_config), health_path=example_config.service.health_check_path)
    assert outcome.attempt.verdict == "released"
    woken = status(released, staging)
    assert not awake.asleep(released, env) and woken.running == env.desired_count
    assert woken.schedule.startswith("awake until") and "woken for a release" in woken.schedule, woken.schedule
    # The wake's two hours pass: the embedded AWS's clock runs 3600 times faster from here (2 s).
    monkeypatch.setenv("SHIPYARD_LOCAL_PACE_FACTOR", "3600")
    deadline = time.monotonic() + 60
    while not awake.asleep(released, env) and time.monotonic() < deadline:
        time.sleep(0.5)
    asleep_again = status(released, staging)
    assert asleep_again.schedule.startswith("asleep until") and env.awake in asleep_again.schedule, asleep_again.schedule


def test_a_release_to_a_woken_environment_waits_until_its_deployment_alarm_is_out_of_alarm(
        released, assemblies, example_config, local_aws, monkeypatch):
    # While staging slept, calls to its API got 503s, and the 1-minute 5xx deployment alarm went into ALARM. ECS fails
    # a deployment whose alarm is in ALARM, so the release must not start its rollout before CloudWatch says OK.
    # (The embedded AWS does not evaluate alarms: the test sets the states CloudWatch would report.)
    from shipyard.aws import Aws

    staging = assemblies["staging"]
    env = staging.environment
    local_aws.run_scheduled_action(env.account, env.region, "Sleep")
    service = released.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                            services=[env.names.service])["services"][0]
    alarm = service["deploymentConfiguration"]["alarms"]["alarmNames"][0]
    released.call("cloudwatch", "SetAlarmState", env.region, AlarmName=alarm, StateValue="ALARM",
                  StateReason="503s while asleep")
    calls: list[str] = []
    original = Aws.call

    def recording(aws, service_name, operation, region, /, **kwargs):
        calls.append(operation)
        return original(aws, service_name, operation, region, **kwargs)

    monkeypatch.setattr(Aws, "call", recording)
    image = build_image(released, env, "daytwo003")
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(result=release(
        released, staging, image.reference, release_options(example_config),
        health_path=example_config.service.health_check_path)))
    thread.start()
    deadline = time.monotonic() + 60
    while calls.count("DescribeAlarms") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "RegisterScalableTarget" in calls and calls.count("DescribeAlarms") >= 3 and "CreateChangeSet" not in calls, calls[-30:]
    original(released, "cloudwatch", "SetAlarmState", env.region, AlarmName=alarm, StateValue="OK",
             StateReason="the woken tasks serve")
    thread.join(timeout=300)
    assert outcome["result"].attempt.verdict == "released"
    assert calls.index("CreateChangeSet") > calls.index("RegisterScalableTarget")


def test_a_release_keeps_the_count_autoscaling_set(released, assemblies, example_config):
    # Under load, target tracking has raised staging from 2 to 3 tasks (within its bounds, 2..4). A release must not
    # set it back: CloudFormation's UpdateService sends the template's DesiredCount whenever the template names one.
    staging = assemblies["staging"]
    env = staging.environment
    released.call("ecs", "UpdateService", env.region, cluster=env.names.cluster, service=env.names.service, desiredCount=3)
    deadline = time.monotonic() + 30
    while status(released, staging).running != 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert status(released, staging).running == 3, "ECS scales a service to a new desired count"
    try:
        image = build_image(released, env, "daytwo002")
        outcome = release(released, staging, image.reference, release_options(example_config),
                          health_path=example_config.service.health_check_path)
        assert outcome.attempt.verdict == "released"
        service = released.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster,
                                services=[env.names.service])["services"][0]
        assert service["desiredCount"] == 3 and status(released, staging).running == 3
    finally:  # the load is gone: staging runs its configured count again for the tests after this one
        released.call("ecs", "UpdateService", env.region, cluster=env.names.cluster, service=env.names.service,
                      desiredCount=env.desired_count)
        deadline = time.monotonic() + 30
        while status(released, staging).running != env.desired_count and time.monotonic() < deadline:
            time.sleep(0.2)


def test_since_and_filter_are_checked_and_quoted():
    from datetime import timedelta

    from shipyard.diagnose import service_logs

    assert service_logs.parse_since("10m") == timedelta(minutes=10) and service_logs.parse_since("2h") == timedelta(hours=2)
    with pytest.raises(UsageError, match="--since"):
        service_logs.parse_since("ten minutes")
    assert service_logs.filter_pattern('say "hi"') == '"say \\"hi\\""' and service_logs.filter_pattern(None) is None
    assert service_logs.stream_prefix("3f2a") == "web/web/3f2a"


def test_the_mask_filter_replaces_secret_values_inside_the_task_shell():
    command = task_exec.masked_command(["sh", "-c", "echo user=$U pass=$P host=$H"], ("U", "P"))
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                         env={"PATH": os.environ["PATH"], "U": "app_owner", "P": "s3cr3t-value", "H": "db.local"})
    assert out.stdout.strip() == "user=**** pass=**** host=db.local", out.stderr


def test_ecs_exec_into_a_task_whose_role_lacks_the_ssm_channels_fails_as_on_aws(deployed, assemblies, example_config):
    """Production's task role has no ssmmessages grants (ecs_exec off): even a task started with exec cannot connect."""
    from shipyard.aws import AwsError
    from shipyard.localaws.ecs import task_runtime

    production, aws = assemblies["production"], deployed["production"]
    env = production.environment
    if current_digest(aws, env) is None:
        image = build_image(aws, env, "daytwo100")
        release(aws, production, image.reference, release_options(example_config), health_path=example_config.service.health_check_path)
    task = next(t for t in task_runtime.tasks(env.account, env.region, env.names.cluster) if t.last_status == "RUNNING")
    task.exec_enabled = True
    try:
        with pytest.raises(AwsError) as refused:
            aws.call("ecs", "ExecuteCommand", env.region, cluster=env.names.cluster, task=task.arn, container="web",
                     command="env", interactive=True)
        assert refused.value.code == "TargetNotConnectedException"
    finally:
        task.exec_enabled = False


def test_a_wake_that_would_end_after_the_morning_wake_leaves_the_day_to_the_schedule(released, assemblies):
    # Woken on Monday at 04:00 (UTC, the example's zone), the wake ends at 06:00. A release at 05:30 would move that to
    # 07:30, past the scheduled 07:00 wake: the end of the wake goes, or it would put staging to sleep at 06:00.
    from datetime import UTC, datetime

    env = assemblies["staging"].environment
    monday = datetime(2026, 12, 7, tzinfo=UTC)
    woken = awake.bound_wake(released, env, monday.replace(hour=4))
    assert woken.sleeps_at == monday.replace(hour=6) and awake.wake_ends(released, env, monday.replace(hour=5)) is not None
    later = awake.end_wake_after_release(released, env, now=monday.replace(hour=5, minute=30))
    assert later is not None and later.sleeps_at is None
    assert awake.wake_ends(released, env, monday.replace(hour=5, minute=30)) is None
