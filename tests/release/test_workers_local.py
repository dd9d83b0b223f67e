"""A worker beside [service] on the embedded AWS: its own image and SQS queue, its tasks consuming real messages with
their task role's credentials, released in the set and judged by its tasks and its dead-letter queue through a bake.
A worker that crashes at start, or that fails every message, returns the whole set to the last known good one, and
`explain --service` names why; a queue made public or left unencrypted is named by `verify`."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from shipyard.app.local_images import build_local_image
from shipyard.config import load_config
from shipyard.diagnose.explain import explain
from shipyard.release import history
from shipyard.release.attempt import Workload
from shipyard.release.release import ReleaseFailed, release
from shipyard.synth import synthesize
from tests.release.conftest import build_image, release_options

from ..conftest import ROOT, copy_example, deploy_example, in_accounts, without_database

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first

WORKER = '''\
import json, os, sys

import boto3

MODE = "ok"
if MODE == "crash":
    print("RuntimeError: the mailer cannot start", flush=True)
    sys.exit(3)
sqs, url = boto3.client("sqs"), os.environ["SHIPYARD_QUEUE_URL"]
print("polling " + url.rsplit("/", 1)[-1], flush=True)
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
MAILER = """
[services.mailer]
kind = "worker"
directory = "mailer"
max_receive_count = 2
visibility_timeout = 0
"""


def _mailer(directory, mode: str = "ok"):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Dockerfile").write_text(DOCKERFILE)
    (directory / "worker.py").write_text(WORKER.replace('MODE = "ok"', f"MODE = {mode!r}"))
    # The shop example's worker requirements: the embedded AWS installs them once per machine for both.
    (directory / "requirements.txt").write_bytes((ROOT / "examples" / "shop" / "orders" / "requirements.txt").read_bytes())
    return directory


@pytest.fixture(scope="module")
def app(local_aws, own_accounts, tmp_path_factory):
    """The example with a mailer worker its [service] publishes to, in this module's accounts; staging deployed,
    without the example's database: (config, assembly, aws)."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("workers") / "app"), own_accounts)
    _mailer(path.parent / "mailer")
    text = without_database(path.read_text()).replace("[service]\n", '[service]\npublishes = ["mailer"]\n', 1)
    at = text.index("\n[defaults]")
    path.write_text(text[:at] + MAILER + text[at:])
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


def _keep_sending(aws, env, stopped) -> None:
    index = 0
    while not stopped.wait(0.3):
        index += 1
        _send(aws, env, f"order-{index}")


def _queue(aws, env, dead: bool = False):
    names = env.workload_view("mailer").names
    return aws.sqs(env.region).queue(names.dead_letter_queue if dead else names.queue)


def _release_set(aws, staging, config, service, mailer):
    return release(aws, staging, service.reference, release_options(config), health_path=config.service.health_check_path,
                   workloads=(Workload("mailer", None, mailer.reference, "worker"),))


def test_the_worker_is_released_in_the_set_and_works_its_queue_with_its_task_roles_credentials(app):
    config, staging, aws = app
    env = staging.environment
    service, mailer = build_image(aws, env, "w-1"), _mailer_image(aws, env, config.directory / "mailer", "w-1")
    outcome = _release_set(aws, staging, config, service, mailer)
    assert outcome.attempt.verdict == "released" and outcome.attempt.workloads == {"mailer": mailer.digest}
    for index in range(3):
        _send(aws, env, f"welcome-{index}")
    deadline = time.monotonic() + 30
    while (_queue(aws, env).visible or _queue(aws, env).in_flight) and time.monotonic() < deadline:
        time.sleep(0.2)
    queue = _queue(aws, env)
    assert (queue.visible, queue.in_flight, _queue(aws, env, dead=True).visible) == (0, 0, 0)
    # The worker's tasks called SQS as the mailer's task role (its credentials from the container credentials
    # endpoint), which may receive and delete on its own queue; [service]'s role may only send to it.
    service_task = aws.iam().role(env.names.task_role)
    assert service_task is not None
    from shipyard.diagnose.status import status

    [state] = status(aws, staging, ("mailer",)).workloads
    assert (state.image, state.running, state.desired, state.queued, state.dead_letters) == (
        mailer.digest, env.desired_count, env.desired_count, 0, 0)
    template = json.loads((staging.directory / f"{env.names.service_stack}.template.json").read_text())
    sends = [s for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy" and "WebTaskRole" in json.dumps(r)
             for s in r["Properties"]["PolicyDocument"]["Statement"] if "sqs:SendMessage" in s["Action"]]
    assert [sorted(s["Action"]) for s in sends] == [["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"]]


def test_a_worker_that_fails_every_message_returns_the_set_and_explain_names_the_dead_letters(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    assert good is not None and good.workloads, "the set was released by the test before"
    service = build_image(aws, env, "w-2", variant="changed")
    failing = _mailer_image(aws, env, _mailer(tmp_path / "mailer", "fail"), "w-2-fail")
    # Work keeps arriving, as on a live queue: once the old tasks are gone, the new ones take it, and fail it.
    stopped = threading.Event()
    sending = threading.Thread(target=_keep_sending, args=(aws, env, stopped), daemon=True)
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


def test_a_worker_that_crashes_at_start_returns_the_set_and_explain_names_its_exit(app, tmp_path):
    config, staging, aws = app
    env = staging.environment
    good = history.last_known_good(history.read(aws, env))
    service = build_image(aws, env, "w-3", variant="changed")
    crashing = _mailer_image(aws, env, _mailer(tmp_path / "mailer", "crash"), "w-3-crash")
    with pytest.raises(ReleaseFailed) as failed:
        _release_set(aws, staging, config, service, crashing)
    outcome = failed.value.outcome
    assert any("MailerService" in r or r.startswith("mailer: ") for r in outcome.attempt.reasons), outcome.attempt.reasons
    assert outcome.rollback is not None and outcome.rollback.released and outcome.rollback.workloads == good.workloads
    links = explain(aws, staging, None, workload="mailer")
    crashed = [link for link in links if link.link == "tasks" and "exit 3" in link.detail]
    assert crashed and "the mailer cannot start" in crashed[0].detail, [link.detail for link in links]


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
