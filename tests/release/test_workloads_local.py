"""A web service, a backend and a worker beside [service] on the embedded AWS, released as one set.

The web service answers its own paths through the one edge from its own image and is judged by its own health gate;
the backend answers by its Service Connect name to the services that declare they call it, and is judged by its
container health check; the worker has its own image and SQS queue, its tasks consume real messages with their task
role's credentials, and it is judged by its tasks and its dead-letter queue through a bake. A backend that fails its
health check, a web service failing its gate, a worker that crashes at start and one that fails every message each
return the whole set to the last known good one, and `explain --service` names why; a queue made public or left
unencrypted, a backend opened to the load balancer and a statement added to the workloads' deploy policy are named by
`verify`."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from shipyard.app import releases
from shipyard.app.context import EnvironmentContext
from shipyard.app.local_images import build_local_image
from shipyard.app.releases import workloads_of
from shipyard.config import load_config
from shipyard.deploy.state import edge_url, task_definition_of
from shipyard.diagnose import service_logs, task_exec
from shipyard.diagnose.explain import explain
from shipyard.errors import ExitCode
from shipyard.release import history
from shipyard.release.attempt import Workload
from shipyard.release.release import ReleaseFailed, release, workload_images
from shipyard.synth import synthesize
from tests.release.conftest import build_image, release_options, stdlib_dockerfile

from ..conftest import ADMIN_WORKLOAD, ROOT, copy_example, deploy_example, in_accounts, without_database

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first

WORKER = '''\
import json, os, sys

import boto3

MODE = "ok"
if MODE == "crash":
    print("RuntimeError: the mailer cannot start", flush=True)
    sys.exit(3)
sqs, url = boto3.client("sqs"), os.environ["SHIPYARD_QUEUE_URL"]
print("polling " + url.rsplit("/", 1)[-1] + " as " + boto3.client("sts").get_caller_identity()["Arn"], flush=True)
while True:
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
        if MODE == "fail":
            print("failed " + message["Body"] + ": RuntimeError('the mailer fails every message')", flush=True)
            continue
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        print("done " + message["Body"], flush=True)
'''
DOCKERFILE = '''\
FROM python:3.12-slim AS build
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1
COPY --from=build /opt/venv /opt/venv
COPY worker.py /app/
WORKDIR /app
USER 65534
CMD ["python", "worker.py"]
'''
# Redelivered at once, dead-lettered on the second failure: a worker that fails every message shows within its bake.
WORKLOADS = """
[services.mailer]
kind = "worker"
directory = "mailer"
max_receive_count = 2
visibility_timeout = 0

[services.catalog]
kind = "backend"
directory = "catalog"
port = 8001
"""
# A web service's or a backend's code: NAME answers every path with its name and image; its health path (any path
# ending in /healthz) answers 500 where it is built broken.
HTTP_APP = '''\
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, HEALTHY = "app", True


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("/healthz"):
            status, body = (200, {"status": "ok"}) if HEALTHY else (500, {"status": "broken"})
        else:
            status, body = 200, {"service": NAME, "path": self.path, "image": os.environ.get("SHIPYARD_IMAGE", "")}
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
'''
HTTP_DOCKERFILE = stdlib_dockerfile("app.py")


def _http_app(directory, name: str, *, healthy: bool = True):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(HTTP_DOCKERFILE)
    (directory / "app.py").write_text(HTTP_APP.replace('NAME, HEALTHY = "app", True', f"NAME, HEALTHY = {name!r}, {healthy}"))
    return directory


def _mailer(directory, mode: str = "ok"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(DOCKERFILE)
    (directory / "worker.py").write_text(WORKER.replace('MODE = "ok"', f"MODE = {mode!r}"))
    # The shop example's worker requirements: the embedded AWS installs them once per machine for both.
    (directory / "requirements.txt").write_bytes((ROOT / "examples" / "shop" / "orders" / "requirements.txt").read_bytes())
    return directory


@pytest.fixture(scope="module")
def app(local_aws, own_accounts, tmp_path_factory):
    """The example with an admin web service, a mailer worker its [service] publishes to and a catalog backend it calls,
    in this module's accounts; staging deployed, without the example's database: (config, assembly, aws)."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("workers") / "app"), own_accounts)
    _mailer(path.parent / "mailer")
    _http_app(path.parent / "catalog", "catalog")
    text = without_database(path.read_text()).replace("[service]\n", '[service]\npublishes = ["mailer"]\ncalls = ["catalog"]\n', 1)
    at = text.index("\n[defaults]")
    _http_app(path.parent / "admin", "admin")
    path.write_text(text[:at] + ADMIN_WORKLOAD + WORKLOADS + text[at:])
    config = load_config(path)
    staging = synthesize(config, config.select(["staging"]), tmp_path_factory.mktemp("out"))[0]
    aws = deploy_example(local_aws, {"staging": staging}, config)["staging"]
    return config, staging, aws


def _mailer_image(aws, env, directory, tag: str):
    return build_local_image(aws, env.workload_view("mailer"), directory=directory, tag=tag, architecture=env.architecture,
                             command=None, vulnerable=False).image


def _send(aws, env, body: str) -> None:
    queue = aws.sqs(env.region).queue(env.workload_view("mailer").names.queue)
    aws.call("sqs", "SendMessage", env.region, QueueUrl=queue.url, MessageBody=body)


def local_aws_plugin(aws):
    """The session plugin ECS Exec runs through on the embedded AWS."""
    return aws.target.emulator.session_plugin


def _send_while_only_the_new_revision_runs(aws, env, stopped) -> None:
    """Work arriving, a message every 0.3 s, from when the mailer runs only tasks of its new revision (the previous
    one's are gone) until another revision is deployed (the rollback): the new revision takes it during its bake."""
    view = env.workload_view("mailer")
    ecs, names = aws.ecs(env.region), view.names
    before, new, index = task_definition_of(aws, view, names.task_family), None, 0
    while not stopped.wait(0.3):
        current = task_definition_of(aws, view, names.task_family)
        if new is None:
            tasks = ecs.tasks(names.cluster, ecs.task_arns(names.cluster, names.service, "RUNNING"))
            if current != before and tasks and {t.task_definition for t in tasks} == {current}:
                new = current
        if new is not None and current != new:
            return
        if new is not None:
            index += 1
            _send(aws, env, f"order-{index}")


def _queue(aws, env, dead: bool = False):
    names = env.workload_view("mailer").names
    return aws.sqs(env.region).queue(names.dead_letter_queue if dead else names.queue)


def _catalog_image(aws, env, directory, tag: str):
    return build_local_image(aws, env.workload_view("catalog"), directory=directory, tag=tag, architecture=env.architecture,
                             command=None, vulnerable=False).image


def _running(aws, env):
    """[service]'s image as it runs now."""
    from shipyard.release.images import resolve
    from shipyard.release.release import current_digest

    return resolve(aws, env, current_digest(aws, env))


def _release_set(aws, staging, config, service, mailer=None, catalog=None, admin=None):
    """The set: [service], the admin, the mailer and the catalog (None: the one it runs)."""
    return release(aws, staging, service.reference, release_options(config), health_path=config.service.health_check_path,
                   workloads=(Workload("admin", "/admin/healthz", admin.reference if admin else None),
                              Workload("mailer", None, mailer.reference if mailer else None, "worker"),
                              Workload("catalog", None, catalog.reference if catalog else None, "backend")))


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response), response.headers["X-Shipyard-Served-By"]
    except urllib.error.HTTPError as exc:
        return exc.code, {}, exc.headers["X-Shipyard-Served-By"]


def _admin_image(aws, env, directory, tag: str):
    return build_local_image(aws, env.workload_view("admin"), directory=directory, tag=tag, architecture=env.architecture,
                             command=None, vulnerable=False).image


def test_the_set_is_released_and_each_answers_where_its_callers_reach_it(app, capfd):
    config, staging, aws = app
    env = staging.environment
    service, mailer = build_image(aws, env, "w-1"), _mailer_image(aws, env, config.directory / "mailer", "w-1")
    catalog = _catalog_image(aws, env, config.directory / "catalog", "w-1")
    admin = _admin_image(aws, env, config.directory / "admin", "w-1")
    assert admin.repository_uri.endswith("/webapp/staging/admin")
    outcome = _release_set(aws, staging, config, service, mailer, catalog, admin)
    assert outcome.attempt.verdict == "released"
    assert outcome.attempt.workloads == {"admin": admin.digest, "mailer": mailer.digest, "catalog": catalog.digest}
    url = edge_url(aws, env)
    status_code, body, served = _get(url + "/admin/users")
    assert (status_code, body["service"], body["path"], served) == (200, "admin", "/admin/users", "load balancer")
    assert body["image"] == admin.reference  # the admin's task runs the admin's own image
    status_code, info, _ = _get(url + "/api/info")
    assert status_code == 200 and info["image_digest"] == service.digest  # [service] still answers /api/*
    record = history.read(aws, env)[0]
    assert (record.verdict, record.digest) == ("released", service.digest) and record.workloads == outcome.attempt.workloads
    from shipyard.diagnose.status import status

    report = status(aws, staging, ("admin",))
    [admin_state] = report.workloads
    assert (admin_state.name, admin_state.image) == ("admin", admin.digest)
    assert admin_state.running == admin_state.desired == env.desired_count
    assert report.releases[0].workloads.startswith(f"admin {admin.digest[:19]}")
    # A release that names no image for a workload keeps the one it runs: the set's other members are what they run.
    kept = workload_images(aws, env, workloads_of(config))
    assert {name: image.digest for name, (image, _) in kept.items()} == outcome.attempt.workloads
    call = ["python", "-c", "import os, urllib.request; print(urllib.request.urlopen(os.environ['SHIPYARD_SERVICE_CATALOG_URL'] "
                            "+ '/items', timeout=5).read().decode())"]
    capfd.readouterr()
    # [service] declared it calls the catalog: the name answers, from the catalog's own task.
    assert task_exec.execute(aws, env, local_aws_plugin(aws), call, None, None).exit_code == 0
    assert '"service": "catalog", "path": "/items"' in capfd.readouterr().out
    # The mailer declared nothing: no Service Connect for it, and the name does not resolve from its tasks.
    probe = ["python", "-c", "import urllib.request\ntry:\n urllib.request.urlopen('http://catalog:8001/items', timeout=3)\n"
                             " print('reached')\nexcept OSError as exc:\n print('unreachable', type(exc).__name__)"]
    task_exec.execute(aws, env.workload_view("mailer"), local_aws_plugin(aws), probe, None, None)
    assert "unreachable URLError" in capfd.readouterr().out


def test_the_worker_works_its_queue_with_its_task_roles_credentials(app):
    _, staging, aws = app
    env = staging.environment
    mailer = history.read(aws, env)[0].workloads["mailer"]
    for index in range(3):
        _send(aws, env, f"welcome-{index}")
    deadline = time.monotonic() + 30
    while (_queue(aws, env).visible or _queue(aws, env).in_flight) and time.monotonic() < deadline:
        time.sleep(0.2)
    queue = _queue(aws, env)
    assert (queue.visible, queue.in_flight, _queue(aws, env, dead=True).visible) == (0, 0, 0)
    view = env.workload_view("mailer")
    lines = [e.message for e in service_logs.read(aws, view, start=datetime.now(UTC) - timedelta(minutes=10))]
    # Each task called AWS as the mailer's task role, from the container credentials endpoint, as on ECS.
    assert any(f"assumed-role/{view.names.task_role}/" in line for line in lines if line.startswith("polling")), lines
    assert {f"done welcome-{index}" for index in range(3)} <= set(lines)
    from shipyard.diagnose.status import status

    [state] = status(aws, staging, ("mailer",)).workloads
    assert (state.image, state.running, state.desired, state.queued, state.dead_letters) == (
        mailer, env.desired_count, env.desired_count, 0, 0)


def test_a_worker_that_fails_every_message_returns_the_set_and_explain_names_the_dead_letters(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    assert good is not None and good.workloads, "the set was released by the test before"
    service = _running(aws, env)  # [service] as it is: the set moves, and only the workload at fault changes
    failing = _mailer_image(aws, env, _mailer(tmp_path / "mailer", "fail"), "w-2-fail")
    # Work arrives while the new revision alone runs: it takes the messages and fails them, during its bake.
    stopped = threading.Event()
    sending = threading.Thread(target=_send_while_only_the_new_revision_runs, args=(aws, env, stopped), daemon=True)
    sending.start()
    try:
        with pytest.raises(ReleaseFailed) as failed:
            _release_set(aws, staging, config, service, failing)
    finally:
        stopped.set()
        sending.join()
    outcome = failed.value.outcome
    assert any(re.match(r"mailer: \d+ message\(s\) moved to the dead-letter queue", r) for r in outcome.attempt.reasons), \
        outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released and outcome.rollback.workloads == good.workloads
    links = explain(aws, staging, None, workload="mailer")
    dead = next(link for link in links if link.link == "queue" and "dlq" in link.detail)
    assert dead.broken and "failed these messages on every delivery" in dead.cause, dead
    # Drained for the tests after this one: the set runs the good mailer again.
    aws.call("sqs", "PurgeQueue", env.region, QueueUrl=_queue(aws, env, dead=True).url)


def test_a_backend_failing_its_health_check_returns_the_set_while_its_caller_is_fine(app, tmp_path, cli, monkeypatch):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    broken = _catalog_image(aws, env, _http_app(tmp_path / "catalog", "catalog", healthy=False), "w-4-broken")
    # Names refused before anything is read: a workload that does not exist, --service beside --workload.
    assert cli("--config", str(config.path), "release", "staging", "--service", "ghost", "--image", "x").code == ExitCode.BAD_INPUT
    assert cli("--config", str(config.path), "release", "staging", "--service", "catalog", "--image", "x",
               "--workload", "admin=y").code == ExitCode.BAD_INPUT
    # The catalog's image alone (release --service): [service] and the others keep what they run, and the set is
    # judged. (The policy gate `release` passes first is deploy's, tested with it: a cold cdk-nag synthesis here
    # would test nothing of --service.)
    monkeypatch.setattr(releases, "require_policy", lambda *_: None)
    with pytest.raises(ReleaseFailed) as raised:
        releases.release(EnvironmentContext(config, env, aws), broken.reference, releases.Gate(), yes=True, auto_rollback=True,
                         allow_vulnerable=None, override_budget=None, service="catalog")
    outcome = raised.value.outcome
    assert outcome.attempt.digest == good.digest and outcome.attempt.workloads["catalog"] == broken.digest
    # Its container health check fails, ECS stops its tasks and the circuit breaker the deployment: CloudFormation
    # rolls the stack back, and the reason names the catalog's service. [service]'s health gate passed meanwhile.
    assert any("CatalogService" in r and "Circuit Breaker" in r for r in outcome.attempt.reasons), outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released and outcome.rollback.workloads == good.workloads
    links = explain(aws, staging, None, workload="catalog")
    assert any("failed container health checks" in link.detail for link in links), [link.detail for link in links]


def test_a_worker_that_crashes_at_start_returns_the_set_and_explain_names_its_exit(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    service = _running(aws, env)  # [service] as it is: the set moves, and only the workload at fault changes
    crashing = _mailer_image(aws, env, _mailer(tmp_path / "mailer", "crash"), "w-3-crash")
    with pytest.raises(ReleaseFailed) as failed:
        _release_set(aws, staging, config, service, crashing)
    outcome = failed.value.outcome
    assert any("MailerService" in r or r.startswith("mailer: ") for r in outcome.attempt.reasons), outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released and outcome.rollback.workloads == good.workloads
    links = explain(aws, staging, None, workload="mailer")
    crashed = [link for link in links if link.link == "tasks" and "exit 3" in link.detail]
    assert crashed and "the mailer cannot start" in crashed[0].detail, [link.detail for link in links]


def test_verify_names_a_backend_opened_to_the_load_balancer(app):
    config, staging, aws = app
    env = staging.environment
    from shipyard.deploy.verify import verify

    ecs = aws.ecs(env.region)
    [backend_group] = ecs.service_of(env.names.cluster, "catalog").network.security_groups
    [lb_group] = aws.elbv2(env.region).load_balancer(env.names.load_balancer).security_groups
    opened = {"IpProtocol": "tcp", "FromPort": 8001, "ToPort": 8001, "UserIdGroupPairs": [{"GroupId": lb_group}]}
    aws.call("ec2", "AuthorizeSecurityGroupIngress", env.region, GroupId=backend_group, IpPermissions=[opened])
    try:
        failed = {r.id: r.detail for r in verify(aws, staging, config.app, drift=False) if not r.passed}
        assert set(failed) == {"SY-E203"} and f"catalog's {backend_group} admits the load balancer's group" in failed["SY-E203"], failed
    finally:
        aws.call("ec2", "RevokeSecurityGroupIngress", env.region, GroupId=backend_group, IpPermissions=[opened])
    assert {r.id for r in verify(aws, staging, config.app, drift=False) if not r.passed} == set()


def test_verify_names_a_worker_queue_made_public_or_left_unencrypted(app):
    config, staging, aws = app
    env = staging.environment
    from shipyard.deploy.verify import verify

    assert {r.id for r in verify(aws, staging, config.app, drift=False) if not r.passed} == set()
    queue = _queue(aws, env)
    public = {**queue.policy, "Statement": [*queue.policy["Statement"],
                                           {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}]}
    aws.call("sqs", "SetQueueAttributes", env.region, QueueUrl=queue.url,
             Attributes={"Policy": json.dumps(public), "SqsManagedSseEnabled": "false"})
    try:
        failed = {r.id: r.detail for r in verify(aws, staging, config.app, drift=False) if not r.passed}
        assert set(failed) == {"SY-E701", "SY-E702"}, failed
        assert "mailer is not encrypted" in failed["SY-E701"] and "mailer's policy allows Principal '*'" in failed["SY-E702"]
    finally:
        aws.call("sqs", "SetQueueAttributes", env.region, QueueUrl=queue.url,
                 Attributes={"Policy": json.dumps(queue.policy), "SqsManagedSseEnabled": "true"})
    assert {r.id for r in verify(aws, staging, config.app, drift=False) if not r.passed} == set()


def test_a_workload_failing_its_gate_returns_the_whole_set_to_the_last_known_good(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    assert good is not None and good.workloads, "the set was released by the test before"
    service = build_image(aws, env, "set-2", variant="changed")  # [service] changes too: the set goes back as one
    broken = _admin_image(aws, env, _http_app(tmp_path / "admin", "admin", healthy=False), "set-2-broken")
    with pytest.raises(ReleaseFailed) as failed:
        _release_set(aws, staging, config, service, admin=broken)
    outcome = failed.value.outcome
    # Its targets never pass the load balancer's health check, so ECS's circuit breaker stops the admin's deployment
    # and CloudFormation rolls the stack back: the reason names the admin's service.
    assert any("AdminService" in reason and "Circuit Breaker" in reason for reason in outcome.attempt.reasons), outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released
    assert outcome.rollback.workloads == good.workloads and outcome.rolled_back_to == good.digest
    url = edge_url(aws, env)
    assert _get(url + "/admin/users")[1]["image"].endswith(good.workloads["admin"])
    assert _get(url + "/api/info")[1]["image_digest"] == good.digest  # [service] went back too: the set moves as one
    newest = history.read(aws, env)[:2]
    assert [(r.kind, r.verdict) for r in newest] == [("rollback", "released"), ("release", "failed")]
    assert newest[1].workloads["admin"] == broken.digest and newest[0].workloads == good.workloads


def test_verify_reads_the_workloads_own_deploy_policy_and_names_a_statement_added_by_hand(app):
    config, staging, aws = app
    from shipyard.deploy.verify import verify

    assert {r.id: r.detail for r in verify(aws, staging, config.app, drift=False) if not r.passed} == {}
    role = aws.iam().role(staging.environment.names.deploy_role)
    [arn] = role.managed
    document = aws.iam().managed_document(arn)
    widened = {**document, "Statement": [*document["Statement"], {"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"}]}
    aws.call("iam", "CreatePolicyVersion", "us-east-1", PolicyArn=arn, PolicyDocument=json.dumps(widened), SetAsDefault=True)
    try:
        failed = {r.id: r.detail for r in verify(aws, staging, config.app, drift=False) if not r.passed}
        assert set(failed) == {"SY-E302"} and "ecs:RunTask" in failed["SY-E302"], failed
    finally:
        versions = aws.call("iam", "ListPolicyVersions", "us-east-1", PolicyArn=arn)["Versions"]
        first = min(versions, key=lambda v: v["CreateDate"])["VersionId"]
        aws.call("iam", "SetDefaultPolicyVersion", "us-east-1", PolicyArn=arn, VersionId=first)
    assert {r.id for r in verify(aws, staging, config.app, drift=False) if not r.passed} == set()


def test_a_workload_with_no_image_yet_is_named(app):
    config, staging, aws = app
    from shipyard.errors import UsageError

    with pytest.raises(UsageError) as missing:
        workload_images(aws, staging.environment, (Workload("ghost", "/ghost/healthz"),))
    assert "has no image released in staging yet" in missing.value.what and "--workload ghost=REF" in missing.value.hint
    shutil.rmtree(config.directory / "cdk.out", ignore_errors=True)


def test_one_workload_is_released_and_rolled_back_alone(app, tmp_path, monkeypatch):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    newer = _admin_image(aws, env, _http_app(tmp_path / "admin", "admin-2"), "w-5")
    monkeypatch.setattr(releases, "require_policy", lambda *_: None)  # deploy's gate, tested with it
    ctx = EnvironmentContext(config, env, aws)
    released = releases.release(ctx, newer.reference, releases.Gate(), yes=True, auto_rollback=True, allow_vulnerable=None,
                                override_budget=None, service="admin")
    assert released.attempt.released and released.attempt.digest == good.digest  # [service] kept what it runs
    assert released.attempt.workloads == {**good.workloads, "admin": newer.digest}
    assert _get(edge_url(aws, env) + "/admin/users")[1]["service"] == "admin-2"
    back = releases.rollback(ctx, releases.Gate(), yes=True, to=None, steps=1, service="admin")
    assert back.attempt.released and back.attempt.workloads == good.workloads and back.attempt.digest == good.digest
    assert _get(edge_url(aws, env) + "/admin/users")[1]["image"].endswith(good.workloads["admin"])
    assert [r.kind for r in history.read(aws, env)[:2]] == ["rollback", "release"]


def test_deleting_a_service_through_the_api_stops_its_tasks(app):
    """DeleteService with force stops the service's tasks at once, at any desired count (ECS API reference,
    DeleteService): the last test here, for it leaves the set without its mailer."""
    _, staging, aws = app
    names = staging.environment.workload_view("mailer").names
    running = aws.call("ecs", "ListTasks", "eu-west-1", cluster=names.cluster, serviceName=names.service)["taskArns"]
    assert running
    aws.call("ecs", "DeleteService", "eu-west-1", cluster=names.cluster, service=names.service, force=True)
    tasks = aws.call("ecs", "DescribeTasks", "eu-west-1", cluster=names.cluster, tasks=running)["tasks"]
    assert {t["desiredStatus"] for t in tasks} == {"STOPPED"}, tasks
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(t["lastStatus"] != "STOPPED" for t in tasks):
        time.sleep(0.2)
        tasks = aws.call("ecs", "DescribeTasks", "eu-west-1", cluster=names.cluster, tasks=running)["tasks"]
    assert {t["lastStatus"] for t in tasks} == {"STOPPED"}, tasks
