"""Releases that stay truthful when interrupted, and one release at a time per environment (embedded AWS)."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from shipyard.aws import AwsError
from shipyard.diagnose.status import status
from shipyard.errors import ExitCode, Refused
from shipyard.release import history
from shipyard.release.release import ReleaseFailed, ReleaseOptions, release
from tests.conftest import EXAMPLE_CONFIG
from tests.release.conftest import PACE_FACTOR, Health, build_image

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


def _options(url):
    return ReleaseOptions(health_url=url, rollout_timeout=20, health_timeout=10, health_successes=2, health_interval=0.1)


def _lock_held(aws, env) -> bool:
    try:
        aws.call("ssm", "GetParameter", env.region, Name=env.names.release_lock_parameter)
    except AwsError as exc:
        assert exc.not_found
        return False
    return True


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("step, patched", [
    ("checks", "shipyard.release.release.vulnerability_guard"),
    ("stack update", "shipyard.release.release.apply_stack"),
    ("ECS rollout", "shipyard.release.release.wait_for_rollout"),
    ("health gate", "shipyard.release.health.gate"),
])
def test_an_interrupted_release_says_what_it_left_and_records_it(step, patched, cli, monkeypatch, deployed, assemblies,
                                                                 local_aws, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    if history.last_known_good(history.read(aws, env)) is None:
        good = build_image(aws, env, "good000")
        release(aws, staging, good.reference, _options(health_server), health_path="/healthz")
    tag = "int" + str(abs(hash(step)))[:6]
    image = build_image(aws, env, tag)

    monkeypatch.setattr(patched, _interrupt)
    result = cli("--config", str(EXAMPLE_CONFIG), "release", "staging", "--image", tag, "--health-url", health_server,
                 "--endpoint", local_aws.endpoint)
    monkeypatch.undo()
    monkeypatch.setenv("SHIPYARD_LOCAL_PACE_FACTOR", PACE_FACTOR)

    assert result.code == ExitCode.INTERRUPTED, result.err
    assert f"error: release staging: interrupted during {step} of {image.digest[:19]}" in result.err
    newest = history.read(aws, env)[0]
    assert (newest.digest, newest.verdict, newest.note) == (image.digest, "interrupted", f"interrupted during {step}")
    report = status(aws, staging)
    if step == "checks":
        assert "nothing was changed" in result.err
        assert report.verified and report.current != image.digest
    else:
        assert "never passed the health gate" in result.err
        assert report.current == image.digest and not report.verified
        shown = cli("--config", str(EXAMPLE_CONFIG), "status", "staging", "--endpoint", local_aws.endpoint)
        assert "UNVERIFIED" in shown.out
    # The lock went with the interrupted release: nothing is left holding it.
    assert not aws.call("ssm", "GetParametersByPath", env.region, Path="/shipyard/webapp/staging")["Parameters"] or all(
        p["Name"] != env.names.release_lock_parameter
        for p in aws.call("ssm", "GetParametersByPath", env.region, Path="/shipyard/webapp/staging")["Parameters"])


def test_two_releases_at_once_one_proceeds_the_other_is_refused_naming_the_holder(deployed, assemblies, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    first = build_image(aws, env, "lock001")
    second = build_image(aws, env, "lock002")
    Health.delay = 0.5  # the first release holds the lock for a few seconds
    outcome = {}
    worker = threading.Thread(target=lambda: outcome.setdefault(
        "first", release(aws, staging, first.reference, _options(health_server), health_path="/healthz")))
    worker.start()
    deadline = time.monotonic() + 20
    while not _lock_held(aws, env) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(Refused) as refused:
        release(aws, staging, second.reference, _options(health_server), health_path="/healthz")
    worker.join(60)
    assert refused.value.exit_code == ExitCode.REFUSED
    assert "another release holds the lock: release by " in refused.value.what and "nothing was changed" in refused.value.what
    assert outcome["first"].attempt.verdict == "released"
    assert history.read(aws, env)[0].digest == first.digest  # the refused release wrote nothing
    # Once the first is done, the second may go.
    assert release(aws, staging, second.reference, _options(health_server), health_path="/healthz").attempt.verdict == "released"


def test_a_lock_whose_lease_expired_is_broken_only_when_asked(deployed, assemblies, health_server):
    import json

    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    image = build_image(aws, env, "lock003")
    stale = {"owner": "ci run 41 (gone)", "action": "release", "started": time.time() - 7200, "lease": 60}
    aws.call("ssm", "PutParameter", env.region, Name=env.names.release_lock_parameter, Value=json.dumps(stale), Type="String")
    with pytest.raises(Refused) as refused:
        release(aws, staging, image.reference, _options(health_server), health_path="/healthz")
    assert "ci run 41 (gone)" in refused.value.what and "--break-lock" in refused.value.hint
    options = dataclasses.replace(_options(health_server), break_lock=True)
    assert release(aws, staging, image.reference, options, health_path="/healthz").attempt.verdict == "released"
    assert not _lock_held(aws, env)


def test_a_rollback_is_judged_without_a_health_server_that_cannot_be_reached(deployed, assemblies, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    good = build_image(aws, env, "reach01")
    release(aws, staging, good.reference, _options(health_server), health_path="/healthz")
    fresh = build_image(aws, env, "reach02")
    nowhere = "http://127.0.0.1:9/healthz"  # discard port: connection refused
    options = dataclasses.replace(_options(nowhere), health_timeout=0.5)
    with pytest.raises(ReleaseFailed) as failed:
        release(aws, staging, fresh.reference, options, health_path="/healthz")
    outcome = failed.value.outcome
    assert outcome.attempt.verdict == "failed" and outcome.attempt.unreachable
    assert outcome.rollback.verdict == "released"
    newest = history.read(aws, env)[0]
    assert (newest.kind, newest.verdict, newest.digest) == ("rollback", "released", good.digest)
    assert "health URL unreachable before and after" in newest.note
    image = aws.call("ssm", "GetParameter", env.region, Name=env.names.image_parameter)["Parameter"]["Value"]
    assert image.endswith(good.digest)
