"""The pipeline's own release and promote commands, exactly as the generated workflow runs them, rehearsed on the
embedded AWS through the AWS SDK's standard endpoint setting (AWS_ENDPOINT_URL) with a profile per account: the
staging job's credentials are staging's deploy role, the production job's production's. Promotion reads staging's
image across accounts as ECR serves it: where staging's repository policy allows the caller, and nowhere else."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shipyard.localaws.server import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from shipyard.scaffold import pipeline

from ..conftest import EXAMPLE
from .conftest import build_image

pytestmark = pytest.mark.long  # several CLI processes against the shared embedded AWS


def _pipeline_steps(config) -> dict[str, str]:
    """The run line of each environment job's release or promote step, by environment."""
    workflow = yaml.safe_load(pipeline.render(config, python="3.12"))
    found = {}
    for job in workflow["jobs"].values():
        for step in job.get("steps", []):
            run = step.get("run", "")
            if run.startswith(("shipyard release ", "shipyard promote ")):
                found[run.split()[2] if run.startswith("shipyard release ") else run.split()[3]] = run
    return found


@pytest.fixture(scope="module")
def ci(deployed, example_config, tmp_path_factory):
    """run(environment's job command or any command, profile) -> CompletedProcess, as CI runs it from the repository."""
    endpoint = deployed["staging"].target.endpoint
    names = {env: example_config.environment(env).names for env in ("staging", "production")}
    accounts = {env: example_config.environment(env).account for env in ("staging", "production")}
    # A role of production's account that staging's repository policy does not name.
    deployed["production"].call("iam", "CreateRole", "us-east-1", RoleName="someone-else", AssumeRolePolicyDocument=(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}'))
    roles = {"staging": f"arn:aws:iam::{accounts['staging']}:role/{names['staging'].deploy_role}",
             "production": f"arn:aws:iam::{accounts['production']}:role/{names['production'].deploy_role}",
             "someone-else": f"arn:aws:iam::{accounts['production']}:role/someone-else"}
    home = tmp_path_factory.mktemp("ci")
    lines = ["[profile runner]", f"aws_access_key_id = {LOCAL_ACCESS_KEY}", f"aws_secret_access_key = {LOCAL_SECRET_KEY}", ""]
    for profile, role in roles.items():
        lines += [f"[profile {profile}]", "source_profile = runner", f"role_arn = {role}", "role_session_name = ci",
                  f"region = {example_config.app.region}", ""]
    (home / "config").write_text("\n".join(lines))
    repository = home / "repository"
    shutil.copytree(EXAMPLE, repository, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_ENDPOINT_URL=endpoint,
                       PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    class Ci:
        def __call__(self, command: str, profile: str, **variables: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["bash", "-c", command], **self.popen(profile, **variables), timeout=300)

        def popen(self, profile: str, **variables: str) -> dict:
            """What a step of the job runs with: its repository, its credentials' profile, its variables."""
            return dict(cwd=repository, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                        env={**environment, "AWS_PROFILE": profile, **variables})

    return Ci()


def _image_of(aws, env) -> str | None:
    return aws.ssm(env.region).get(env.names.image_parameter)


def test_the_pipelines_release_and_promote_commands_succeed(ci, deployed, assemblies, example_config):
    steps = _pipeline_steps(example_config)
    staging, production = (assemblies[e].environment for e in ("staging", "production"))
    digest = build_image(deployed["staging"], staging, "rehearsed01", variant="changed").digest
    released = ci(steps["staging"], "staging", DIGEST=digest)
    assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    promoted = ci(steps["production"], "production", DIGEST=digest)
    assert promoted.returncode == 0, promoted.stdout[-3000:] + promoted.stderr[-3000:]
    assert _image_of(deployed["production"], production).endswith(f"@{digest}")
    verified = ci("shipyard verify production --aws", "production")
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]


def test_promote_under_a_role_the_repository_policy_does_not_name_is_denied_and_changes_nothing(ci, deployed, assemblies,
                                                                                                example_config):
    staging, production = (assemblies[e].environment for e in ("staging", "production"))
    digest = build_image(deployed["staging"], staging, "rehearsed02").digest
    before = _image_of(deployed["production"], production)
    denied = ci(_pipeline_steps(example_config)["production"], "someone-else", DIGEST=digest)
    assert denied.returncode != 0
    assert "AccessDeniedException" in denied.stderr and "someone-else" in denied.stderr, denied.stderr[-2000:]
    assert _image_of(deployed["production"], production) == before
    assert deployed["production"].ecr(production.region).image(production.names.repository, digest=digest) is None


def test_promote_with_the_source_accounts_credentials_is_refused_before_any_copy(ci, deployed, assemblies, example_config):
    staging = assemblies["staging"].environment
    digest = build_image(deployed["staging"], staging, "rehearsed03").digest
    refused = ci(_pipeline_steps(example_config)["production"], "staging", DIGEST=digest)
    assert refused.returncode == 4, refused.stderr[-2000:]
    assert "promote runs with production's credentials" in refused.stderr and "--digest" in refused.stderr


def test_logs_follow_on_aws_tails_live_and_stops_cleanly_on_ctrl_c(ci):
    """With the SDK's endpoint at the embedded AWS, Live Tail reaches it (no stream host prefix in front of a loopback
    endpoint); the embedded AWS ends each session at once (it cannot hold a stream open), so following then polls."""
    import contextlib
    import queue
    import signal
    import threading
    import time

    # Its events go to stdout, which nothing here reads: to a pipe, a worker's ten minutes of staging's logs would fill
    # it (64 KiB) and block the command before it says "(live tail)".
    process = subprocess.Popen(["bash", "-c", "exec shipyard logs staging --aws --follow"],
                               **{**ci.popen("staging"), "stdout": subprocess.DEVNULL})
    assert process.stderr is not None
    lines: queue.Queue[str] = queue.Queue()  # read beside the wait, so a command that says nothing fails, not hangs
    threading.Thread(target=lambda: [lines.put(line) for line in iter(process.stderr.readline, "")], daemon=True).start()
    deadline, err = time.monotonic() + 120, ""
    while time.monotonic() < deadline and "polling every" not in err:
        with contextlib.suppress(queue.Empty):
            err += lines.get(timeout=1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    time.sleep(0.2)  # the reader drains what the process said last
    rest = "".join(iter(lambda: lines.get_nowait() if not lines.empty() else "", ""))
    assert "(live tail)" in err and "the session closed after" in err, err
    assert process.returncode in (0, 130) and "Traceback" not in rest and "ECONNRESET" not in rest, rest
