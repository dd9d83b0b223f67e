"""A web workload beside [service] on the embedded AWS, released as a set: its own image from its own directory,
its tasks behind its own listener rule, its path answered through the one edge, each judged by its own health gate;
a set where the workload fails its gate returns every workload to the last known good set, and the history says
which images the set held."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request

import pytest

from shipyard.app.local_images import build_local_image
from shipyard.app.releases import workloads_of
from shipyard.config import load_config
from shipyard.deploy.state import edge_url
from shipyard.release import history
from shipyard.release.attempt import Workload
from shipyard.release.release import ReleaseFailed, release, workload_images
from shipyard.synth import synthesize
from tests.release.conftest import build_image, release_options

from ..conftest import ADMIN_WORKLOAD, copy_example, deploy_example, in_accounts, without_database

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first

ADMIN_APP = '''\
import json, os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTHY = True


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/admin/healthz":
            status, body = (200, {"status": "ok"}) if HEALTHY else (500, {"status": "broken"})
        else:
            status, body = 200, {"service": "admin", "path": self.path, "image": os.environ.get("SHIPYARD_IMAGE", "")}
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
ADMIN_DOCKERFILE = '''\
FROM python:3.12-slim
COPY app.py /app/
WORKDIR /app
USER 65534
CMD ["python", "app.py"]
'''


def _admin(directory, *, healthy: bool = True):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(ADMIN_DOCKERFILE)
    (directory / "app.py").write_text(ADMIN_APP.replace("HEALTHY = True", f"HEALTHY = {healthy}"))
    return directory


@pytest.fixture(scope="module")
def app(local_aws, own_accounts, tmp_path_factory):
    """The example with an admin web service, in this module's accounts; staging deployed, without the example's
    database (the set's release is what is tested here): (config, assembly, aws)."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("workloads") / "app"), own_accounts)
    _admin(path.parent / "admin")
    text = without_database(path.read_text())
    at = text.index("\n[defaults]")
    path.write_text(text[:at] + ADMIN_WORKLOAD + text[at:])
    config = load_config(path)
    staging = synthesize(config, config.select(["staging"]), tmp_path_factory.mktemp("out"))[0]
    aws = deploy_example(local_aws, {"staging": staging}, config)["staging"]
    return config, staging, aws


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response), response.headers["X-Shipyard-Served-By"]
    except urllib.error.HTTPError as exc:
        return exc.code, {}, exc.headers["X-Shipyard-Served-By"]


def _admin_image(aws, env, directory, tag: str):
    return build_local_image(aws, env.workload_view("admin"), directory=directory, tag=tag, architecture=env.architecture,
                             command=None, vulnerable=False).image


def test_the_set_releases_and_each_path_answers_from_its_own_service(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    service, admin = build_image(aws, env, "set-1"), _admin_image(aws, env, config.directory / "admin", "set-1")
    assert admin.repository_uri.endswith("/webapp/staging/admin")
    outcome = release(aws, staging, service.reference, release_options(config), health_path=config.service.health_check_path,
                      workloads=(Workload("admin", "/admin/healthz", admin.reference),))
    assert outcome.attempt.verdict == "released" and outcome.attempt.workloads == {"admin": admin.digest}
    url = edge_url(aws, env)
    status, body, served = _get(url + "/admin/users")
    assert (status, body["service"], body["path"], served) == (200, "admin", "/admin/users", "load balancer")
    assert body["image"] == admin.reference  # the admin's task runs the admin's own image
    status, info, _ = _get(url + "/api/info")
    assert status == 200 and info["image_digest"] == service.digest  # [service] still answers /api/*
    record = history.read(aws, env)[0]
    assert (record.verdict, record.digest, record.workloads) == ("released", service.digest, {"admin": admin.digest})
    from shipyard.diagnose.status import status

    report = status(aws, staging, ("admin",))
    [admin_state] = report.workloads
    assert (admin_state.name, admin_state.image) == ("admin", admin.digest)
    assert admin_state.running == admin_state.desired == env.desired_count
    assert report.releases[0].workloads == f"admin {admin.digest[:19]}"
    # A release that names no image for the admin keeps the one it runs: the set's other members are what they run.
    kept = workload_images(aws, env, workloads_of(config))
    assert {name: image.digest for name, (image, _) in kept.items()} == {"admin": admin.digest}


def test_a_workload_failing_its_gate_returns_the_whole_set_to_the_last_known_good(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    assert good is not None and good.workloads, "the set was released by the test before"
    service = build_image(aws, env, "set-2", variant="changed")
    broken = _admin_image(aws, env, _admin(tmp_path / "admin", healthy=False), "set-2-broken")
    with pytest.raises(ReleaseFailed) as failed:
        release(aws, staging, service.reference, release_options(config), health_path=config.service.health_check_path,
                workloads=(Workload("admin", "/admin/healthz", broken.reference),))
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
    assert newest[1].workloads == {"admin": broken.digest} and newest[0].workloads == good.workloads


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
