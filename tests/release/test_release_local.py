"""Releases on the embedded AWS, on task processes running the sample service: judged by what ECS and the health URL report."""

from __future__ import annotations

import pytest

from shipyard.app.local_images import build_local_image
from shipyard.diagnose.explain import explain
from shipyard.diagnose.status import status
from shipyard.errors import Refused
from shipyard.release import history
from shipyard.release.release import ReleaseFailed, ReleaseOptions, promote, release, rollback
from tests.release.conftest import SERVICE, Health, build_image

pytestmark = pytest.mark.long  # a minute or more of a worker: handed out first


def _options(url, **kwargs):
    return ReleaseOptions(health_url=url, rollout_timeout=kwargs.pop("rollout_timeout", 20), health_timeout=kwargs.pop("health_timeout", 2),
                          health_successes=2, health_interval=0.1, **kwargs)


def _service(aws, env):
    return aws.call("ecs", "DescribeServices", env.region, cluster=env.names.cluster, services=[env.names.service])["services"][0]


def _weights(aws, env):
    """Target group -> weight of the load balancer's production rule (what ECS moves in a blue/green deployment)."""
    listeners = aws.paginate("elbv2", "DescribeListeners", env.region, "Listeners", LoadBalancerArn=_load_balancer(aws, env))
    rules = aws.call("elbv2", "DescribeRules", env.region, ListenerArn=listeners[0]["ListenerArn"])["Rules"]
    forward = next(r for r in rules if not r["IsDefault"])["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {t["TargetGroupArn"]: t["Weight"] for t in forward}


def _load_balancer(aws, env):
    return aws.call("elbv2", "DescribeLoadBalancers", env.region, Names=[env.names.load_balancer])["LoadBalancers"][0]["LoadBalancerArn"]


def _group_of(aws, env, deployment):
    """The target group whose healthy targets belong to this deployment's tasks."""
    counts = {}
    for group in _weights(aws, env):
        health = aws.call("elbv2", "DescribeTargetHealth", env.region, TargetGroupArn=group)["TargetHealthDescriptions"]
        counts[group] = sum(1 for h in health if h["TargetHealth"]["State"] == "healthy")
    return next(group for group, count in counts.items() if count == deployment["runningCount"])


def _assert_runs(aws, env, digest):
    """The environment runs `digest`, as ECS and SSM report it (not shipyard's own status)."""
    parameter = aws.call("ssm", "GetParameter", env.region, Name=env.names.image_parameter)["Parameter"]["Value"]
    assert parameter.endswith("@" + digest), parameter
    service = _service(aws, env)
    primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    assert primary["rolloutState"] == "COMPLETED" and service["runningCount"] == service["desiredCount"], service["deployments"]
    definition = aws.call("ecs", "DescribeTaskDefinition", env.region, taskDefinition=primary["taskDefinition"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"].endswith("@" + digest), definition["containerDefinitions"][0]
    # And production traffic goes to those tasks: the rule's full weight is on the group they are healthy in.
    assert _weights(aws, env)[_group_of(aws, env, primary)] == 100


def test_release_promote_crash_rollback_and_status(deployed, assemblies, example_config, health_server):
    staging, production = assemblies["staging"], assemblies["production"]
    s_aws, p_aws = deployed["staging"], deployed["production"]
    path = example_config.service.health_check_path

    good = build_image(s_aws, staging.environment, "c0ffee1")
    outcome = release(s_aws, staging, "c0ffee1", _options(health_server), health_path=path)
    assert outcome.attempt.verdict == "released"
    # Blue/green: the gate ran during the bake, inside the stack update, and gave the verdict there. The summary names
    # the phases a user acts on, not an "ECS rollout 0.0s" that ended within the stack update.
    timings = outcome.attempt.timings
    assert set(timings) == {"stack update", "new tasks serving", "bake", "verdict"}, timings
    assert 0 < timings["new tasks serving"] < timings["stack update"] and 0 < timings["bake"] < timings["stack update"]
    assert history.last_known_good(history.read(s_aws, staging.environment)).digest == good.digest
    service = _service(s_aws, staging.environment)
    assert service["runningCount"] == service["desiredCount"] == 2

    promoted = promote(s_aws, staging, p_aws, production, _options(health_server), health_path=path)
    assert promoted.attempt.verdict == "released" and promoted.attempt.digest == good.digest
    copied = p_aws.call("ecr", "DescribeImages", "eu-west-1", repositoryName="webapp/production",
                        imageIds=[{"imageDigest": good.digest}])["imageDetails"]
    assert copied[0]["imageDigest"] == good.digest  # same bytes, other account
    assert _service(p_aws, production.environment)["runningCount"] == 4

    bad = build_image(p_aws, production.environment, "bad0001", "crash")
    with pytest.raises(ReleaseFailed) as caught:
        release(p_aws, production, bad.reference, _options(health_server), health_path=path)
    failed = caught.value.outcome
    assert failed.attempt.verdict == "failed"
    assert "circuit breaker" in " ".join(failed.attempt.reasons).lower()
    assert failed.attempt.step == "stack update"  # CloudFormation waited for ECS and rolled the stack back
    assert failed.rolled_back_to == good.digest and failed.rollback.verdict == "released"
    assert "rolled back to" in caught.value.what
    image = p_aws.call("ssm", "GetParameter", "eu-west-1", Name=production.environment.names.image_parameter)["Parameter"]["Value"]
    assert image.endswith(good.digest)
    _assert_runs(p_aws, production.environment, good.digest)
    records = history.read(p_aws, production.environment)
    assert [(r.kind, r.verdict) for r in records[:3]] == [("rollback", "released"), ("release", "failed"), ("promote", "released")]

    findings = explain(p_aws, production, health_server)
    text = "\n".join(f.detail + " " + f.cause for f in findings)
    assert "KeyError: 'DATABASE_URL'" in text, text
    assert "deployment failed: tasks failed to start" in text, text
    # The rollback healed it: explain is about now, the crash is history.
    assert not [f for f in findings if f.broken], [f for f in findings if f.broken]
    assert any(f.past and "KeyError" in f.detail for f in findings)
    Health.code = 500
    broken = [f for f in explain(p_aws, production, health_server) if f.broken]
    assert [f.link for f in broken] == ["edge"]
    # Nothing behind the edge is broken, so explain does not point there ("see the links below").
    assert "every link behind it is healthy" in broken[0].cause and "below" not in broken[0].cause, broken[0]
    Health.code = 200

    report = status(p_aws, production)
    assert report.current == report.last_known_good == good.digest
    assert report.running == report.desired == 4
    assert report.releases[0].kind == "rollback"


def test_health_failing_while_ecs_looks_fine_is_failed_and_rolled_back(deployed, assemblies, example_config, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    path = example_config.service.health_check_path
    base = build_image(aws, staging.environment, "base002")
    release(aws, staging, base.reference, _options(health_server), health_path=path)
    nice = build_image(aws, staging.environment, "nice003")
    Health.code = 503
    with pytest.raises(ReleaseFailed) as caught:
        release(aws, staging, nice.reference, _options(health_server), health_path=path)
    assert "did not answer 200" in caught.value.outcome.attempt.reasons[0]
    assert caught.value.outcome.attempt.step == "stack update"  # judged during the bake, inside the stack update
    # Blue/green: the failed gate moved traffic back to the base revision, which never stopped; no new tasks.
    env = staging.environment
    deployments = _service(aws, env)["deployments"]
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    assert primary["rolloutState"] == "COMPLETED" and primary["runningCount"] == 2
    assert [d["rolloutState"] for d in deployments if d is not primary] == ["FAILED"]
    assert _weights(aws, env) == {_group_of(aws, env, primary): 100, **{g: 0 for g in _weights(aws, env) if g != _group_of(aws, env, primary)}}
    stopped = aws.call("ecs", "ListServiceDeployments", env.region, cluster=env.names.cluster, service=env.names.service)
    assert "ROLLBACK_SUCCESSFUL" in {d["status"] for d in stopped["serviceDeployments"]}
    assert caught.value.outcome.rolled_back_to == base.digest
    _assert_runs(aws, staging.environment, base.digest)
    assert caught.value.outcome.rollback.verdict == "failed"  # the health URL still fails: said so, exit non-zero
    assert "ALSO FAILED" in caught.value.what
    _assert_runs(aws, env, base.digest)  # but what runs and takes traffic is the last known good image
    assert [r.verdict for r in history.read(aws, env)[:2]] == ["failed", "failed"]


def test_stuck_rollout_is_bounded_and_rolled_back(deployed, assemblies, example_config, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    path = example_config.service.health_check_path
    base = build_image(aws, staging.environment, "base004")
    release(aws, staging, base.reference, _options(health_server), health_path=path)
    stuck = build_image(aws, staging.environment, "stuck05", "stuck")
    with pytest.raises(ReleaseFailed) as caught:
        release(aws, staging, stuck.reference, _options(health_server, rollout_timeout=1.5), health_path=path)
    reason = caught.value.outcome.attempt.reasons[0]
    assert "did not complete within 2s; cancelled" in reason and "UPDATE_ROLLBACK_COMPLETE" in reason, reason
    assert caught.value.outcome.attempt.step == "stack update"  # the stack-timeout path, not the rollout wait
    _assert_runs(aws, staging.environment, base.digest)
    assert [(r.kind, r.verdict) for r in history.read(aws, staging.environment)[:2]] == [("rollback", "released"), ("release", "failed")]
    assert caught.value.outcome.rollback.verdict == "released"


def test_an_app_that_starts_slowly_in_its_own_time_is_released(deployed, assemblies, example_config, health_server):
    """AWS gives an app the grace period and the unhealthy threshold's checks to listen, in real seconds (40 here);
    at pace 20 they last 2 s, but the app's start is its own: 2 s of start-up is released, as on AWS."""
    staging, aws = assemblies["staging"], deployed["staging"]
    slow = build_image(aws, staging.environment, "slow010", "slow start")
    release(aws, staging, slow.reference, _options(health_server), health_path=example_config.service.health_check_path)
    _assert_runs(aws, staging.environment, slow.digest)


def test_unhealthy_targets_fail_the_release(deployed, assemblies, example_config, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    path = example_config.service.health_check_path
    base = build_image(aws, staging.environment, "base006")
    release(aws, staging, base.reference, _options(health_server), health_path=path)
    sick = build_image(aws, staging.environment, "sick007", "unhealthy")
    with pytest.raises(ReleaseFailed) as caught:
        release(aws, staging, sick.reference, _options(health_server), health_path=path)
    assert caught.value.outcome.rolled_back_to == base.digest
    _assert_runs(aws, staging.environment, base.digest)
    assert history.read(aws, staging.environment)[1].verdict == "failed"


def test_guards(deployed, assemblies, example_config, health_server):
    staging, production = assemblies["staging"], assemblies["production"]
    path = example_config.service.health_check_path
    vulnerable = build_local_image(deployed["staging"], staging.environment, directory=SERVICE, tag="vuln008", architecture="arm64", command=None, vulnerable=True).image
    with pytest.raises(Refused, match="the ECR scan found 1 CRITICAL, 2 HIGH; nothing was released"):
        release(deployed["staging"], staging, vulnerable.reference, _options(health_server), health_path=path)
    allowed = release(deployed["staging"], staging, vulnerable.reference,
                      _options(health_server, allow_vulnerable="CVE fixed upstream; patch in next sprint"), health_path=path)
    assert allowed.attempt.verdict == "released"
    assert "CVE fixed upstream" in history.read(deployed["staging"], staging.environment)[0].note

    with pytest.raises(Exception, match="is not in repository"):
        release(deployed["staging"], staging, "nope999", _options(health_server), health_path=path)

    aws = deployed["production"]
    aws.call("cloudwatch", "SetAlarmState", "us-east-1", AlarmName=production.environment.names.budget_alarm,
             StateValue="ALARM", StateReason="test")
    # The guard refuses before anything changes, so any image in the registry will do.
    image = build_image(aws, production.environment, "budget01")
    with pytest.raises(Refused, match="budget alarm webapp-production-budget is in ALARM"):
        release(aws, production, image.reference, _options(health_server), health_path=path)
    aws.call("cloudwatch", "SetAlarmState", "us-east-1", AlarmName=production.environment.names.budget_alarm,
             StateValue="OK", StateReason="test")


def test_rollback_command_semantics(local_aws, deployed, assemblies, example_config, health_server):
    staging, aws = assemblies["staging"], deployed["staging"]
    path = example_config.service.health_check_path
    history_before = history.good_digests(history.read(aws, staging.environment))
    outcome = rollback(aws, staging, _options(health_server), health_path=path)
    assert outcome.attempt.verdict == "released"
    assert outcome.attempt.digest in history_before
    with pytest.raises(Refused, match="was never released successfully"):
        rollback(aws, staging, _options(health_server), health_path=path, to="sha256:" + "0" * 64)


def test_cloudformation_waits_for_ecs_as_aws_does(deployed, assemblies, example_config, health_server):
    """A service-stack update stays IN_PROGRESS while its deployment is stuck; AWS's rules for it hold here."""
    from shipyard.aws import AwsError
    from shipyard.deploy.apply import StackTimeout, apply_stack, wait_for_stack

    staging, aws = assemblies["staging"], deployed["staging"]
    env = staging.environment
    base = build_image(aws, env, "base008")
    release(aws, staging, base.reference, _options(health_server), health_path=example_config.service.health_check_path)
    stuck = build_image(aws, env, "stuck09", "stuck")
    aws.call("ssm", "PutParameter", env.region, Name=env.names.image_parameter, Value=stuck.reference, Type="String", Overwrite=True)
    stack = staging.stack(env.names.service_stack)
    with pytest.raises(StackTimeout):
        apply_stack(aws, stack, change_set_type="UPDATE", parameters={}, timeout=1, use_previous_template=True)
    state = aws.call("cloudformation", "DescribeStacks", env.region, StackName=stack.name)["Stacks"][0]
    assert state["StackStatus"] == "UPDATE_IN_PROGRESS"
    with pytest.raises(AwsError) as busy:  # no second change while one is in progress
        aws.call("cloudformation", "CreateChangeSet", env.region, StackName=stack.name, ChangeSetName="again",
                 UsePreviousTemplate=True, ChangeSetType="UPDATE", Capabilities=["CAPABILITY_IAM"])
    assert busy.value.code == "ValidationError" and "UPDATE_IN_PROGRESS state" in busy.value.what

    aws.call("cloudformation", "CancelUpdateStack", env.region, StackName=stack.name)
    assert wait_for_stack(aws, stack, timeout=20) == "UPDATE_ROLLBACK_COMPLETE"
    events = aws.call("cloudformation", "DescribeStackEvents", env.region, StackName=stack.name)["StackEvents"]
    assert any(e["ResourceStatusReason"] == "Resource update cancelled" for e in events if e.get("ResourceStatusReason"))
    with pytest.raises(AwsError) as late:
        aws.call("cloudformation", "CancelUpdateStack", env.region, StackName=stack.name)
    assert "cannot be called from current stack status UPDATE_ROLLBACK_COMPLETE" in late.value.what
    # The rollback restored the image the stack resolved before (as CloudFormation does), not today's SSM value.
    service = _service(aws, env)
    definition = aws.call("ecs", "DescribeTaskDefinition", env.region, taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"].endswith("@" + base.digest)
    aws.call("ssm", "PutParameter", env.region, Name=env.names.image_parameter, Value=base.reference, Type="String", Overwrite=True)
