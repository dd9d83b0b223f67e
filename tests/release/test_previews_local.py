"""Preview environments on the embedded AWS: a preview of changed code inside staging, beside what staging runs.

The app has [service], a web service, a backend, a worker and a database; staging runs the released set.
`preview deploy pr-7` builds every workload from its directory (the service's code changed), makes the preview's one
stack inside staging (its rules on staging's listener, its site files under pv/pr-7/), its own database and user in
staging's server with the migrations applied, and answers on staging's edge under /pv/pr-7/ while staging keeps
answering with what it runs, from its own rows. A rule moved before a base rule and a task role given staging's
database secret are named; `preview destroy` leaves nothing of it (its database and user included), and staging's
verify passes.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from shipyard.app import previewing
from shipyard.config import load_config
from shipyard.deploy.apply import DeployFailed
from shipyard.deploy.state import edge_url
from shipyard.deploy.verify import verify
from shipyard.errors import Refused, UsageError
from shipyard.naming import Output
from shipyard.release.release import current_digest
from shipyard.synth import synthesize
from tests.release.conftest import VARIANTS, build_image
from tests.release.test_workloads_local import WORKLOADS, _admin_image, _catalog_image, _http_app, _mailer, _mailer_image, _release_set

from ..conftest import ADMIN_WORKLOAD, copy_example, deploy_example, in_accounts

pytestmark = pytest.mark.long

PREVIEWS = '\n[previews]\nbase = "staging"\ncap = 2\n'


@pytest.fixture(scope="module")
def app(local_aws, own_accounts, tmp_path_factory):
    """The workloads example taking previews in: staging deployed and its set released: (config, assembly, aws)."""
    path = in_accounts(copy_example(tmp_path_factory.mktemp("previews") / "app"), own_accounts)
    _mailer(path.parent / "mailer")
    _http_app(path.parent / "catalog", "catalog")
    _http_app(path.parent / "admin", "admin")
    text = path.read_text().replace("[service]\n", '[service]\npublishes = ["mailer"]\ncalls = ["catalog"]\n', 1)
    at = text.index("\n[defaults]")
    path.write_text(text[:at] + ADMIN_WORKLOAD + WORKLOADS + text[at:] + PREVIEWS)
    config = load_config(path)
    staging = synthesize(config, config.select(["staging"]), tmp_path_factory.mktemp("out"))[0]
    aws = deploy_example(local_aws, {"staging": staging}, config)["staging"]
    env = staging.environment
    outcome = _release_set(aws, staging, config, build_image(aws, env, "p-1"),
                           _mailer_image(aws, env, config.directory / "mailer", "p-1"),
                           _catalog_image(aws, env, config.directory / "catalog", "p-1"),
                           _admin_image(aws, env, config.directory / "admin", "p-1"))
    assert outcome.attempt.verdict == "released"
    return config, staging, aws


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _master_secret_arn(aws, env) -> str:
    return aws.cloudformation(env.region).stack(env.names.data_stack).outputs[Output.DATABASE_SECRET_ARN]


def _master(aws, env) -> dict:
    """Staging's server, as its master user (the secret RDS manages) reaches it."""
    secret = json.loads(aws.call("secretsmanager", "GetSecretValue", env.region, SecretId=_master_secret_arn(aws, env))["SecretString"])
    ssm = aws.ssm(env.region)
    return {"host": ssm.get(env.names.database_parameter("host")), "port": ssm.get(env.names.database_parameter("port")),
            "username": secret["username"], "password": secret["password"]}


def _preview_password(aws, env) -> str:
    secret = aws.call("secretsmanager", "GetSecretValue", env.region, SecretId=f"{env.preview('pr-7').names.prefix}-database")
    return json.loads(secret["SecretString"])["password"]


def _connect(credentials: dict, database: str):
    import psycopg

    return psycopg.connect(host=credentials["host"], port=credentials["port"], user=credentials["username"],
                           password=credentials["password"], dbname=database, sslmode="require", connect_timeout=5, autocommit=True)


def _server_has(master: dict, database: str, user: str) -> tuple[bool, bool]:
    with _connect(master, "postgres") as db:
        return (db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None,
                db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is not None)


def test_a_preview_serves_changed_code_beside_staging_and_leaves_nothing_behind(app, local_aws):
    config, staging, aws = app
    env = staging.environment
    released = current_digest(aws, env)
    service = config.service_directory / "app.py"
    old, new = VARIANTS["changed"]
    service.write_text(service.read_text().replace(old, new))
    report = previewing.deploy_preview(config, aws.target, "PR-7")
    assert report.passed, [c.detail for c in report.checks]
    assert report.name == "pr-7" and report.created and report.url.endswith("/pv/pr-7/")
    base = edge_url(aws, env)
    # The preview runs the changed code; staging what it ran before.
    status, body = _get(base + "/pv/pr-7/api/info")
    info = json.loads(body)
    assert status == 200 and info["version"] == "2.0" and info["environment"] == "staging-pv-pr-7"
    assert info["image_digest"] != released
    status, body = _get(base + "/api/info")
    assert status == 200 and json.loads(body)["version"] == "dev" and json.loads(body)["image_digest"] == released
    # Its web service answers under the prefix from its own task; its site files are its own.
    status, body = _get(base + "/pv/pr-7/admin/users")
    assert status == 200 and json.loads(body)["service"] == "admin"
    status, page = _get(base + "/pv/pr-7/")
    assert status == 200 and "<html" in page.lower()
    # Its rows are its own: a row written through the preview is not staging's, nor staging's the preview's.
    assert _post(base + "/api/items", {"name": "staging's"}) == 201
    assert _post(base + "/pv/pr-7/api/items", {"name": "pr-7's"}) == 201
    assert [i["name"] for i in json.loads(_get(base + "/pv/pr-7/api/items")[1])["items"]] == ["pr-7's"]
    assert "pr-7's" not in _get(base + "/api/items")[1]
    master = _master(aws, env)
    assert _server_has(master, "app_pv_pr_7", "pv_pr_7") == (True, True)
    preview_user = master | {"username": "pv_pr_7", "password": _preview_password(aws, env)}
    with _connect(preview_user, "app_pv_pr_7") as db:
        assert db.execute("SELECT count(*) FROM items").fetchone() == (1,)
    with pytest.raises(Exception, match="CONNECT privilege"):  # staging's database is not the preview's to open
        _connect(preview_user, "app")
    # Every workload is a container of the preview's one task (one Fargate charge, one address): the catalog, which
    # [service] reaches on localhost, passes its container health check there.
    preview = env.preview("pr-7")
    ecs = aws.ecs(env.region)
    assert aws.call("ecs", "ListServices", env.region, cluster=preview.names.cluster)["serviceArns"] == [
        f"arn:aws:ecs:{env.region}:{env.account}:service/{preview.names.cluster}/{preview.names.service}"]
    [task] = aws.call("ecs", "DescribeTasks", env.region, cluster=preview.names.cluster, tasks=ecs.task_arns(
        preview.names.cluster, preview.names.service, "RUNNING"))["tasks"]
    running = {c["name"]: c for c in task["containers"] if c["lastStatus"] == "RUNNING"}
    assert set(running) == {"web", "admin", "catalog", "mailer"} and running["catalog"]["healthStatus"] == "HEALTHY"
    definition = aws.call("ecs", "DescribeTaskDefinition", env.region, taskDefinition=task["taskDefinitionArn"])["taskDefinition"]
    web = next(c for c in definition["containerDefinitions"] if c["name"] == "web")
    assert {"name": "SHIPYARD_SERVICE_CATALOG_URL", "value": "http://127.0.0.1:8001"} in web["environment"]
    # Asleep outside its hours (its Sleep action's bounds), the next push wakes it first: it answers again, from the
    # database it kept.
    views = [preview]
    # Each scalable target carries the tag the preview role's scaling permissions hold by (CloudFormation tags it).
    targets = aws.call("application-autoscaling", "DescribeScalableTargets", env.region, ServiceNamespace="ecs", ResourceIds=[
        f"service/{view.names.cluster}/{view.names.service}" for view in views])["ScalableTargets"]
    assert len(targets) == len(views) and all(aws.call("application-autoscaling", "ListTagsForResource", env.region, ResourceARN=t[
        "ScalableTargetARN"])["Tags"].get("shipyard:preview") == "pr-7" for t in targets)
    for view in views:
        aws.autoscaling(env.region).set_service_bounds(view.names.cluster, view.names.service, 0, 0)
    again = previewing.deploy_preview(config, aws.target, "pr-7")
    assert not again.created and again.passed, [c.detail for c in again.checks]
    assert [i["name"] for i in json.loads(_get(base + "/pv/pr-7/api/items")[1])["items"]] == ["pr-7's"]
    # A name no preview has reaches nothing.
    assert _get(base + "/pv/pr-8/api/info")[0] == 404
    assert [p.name for p in previewing.list_previews(config, aws.target)] == ["pr-7"]

    # Tampering: a preview rule moved before a base rule, a task role given staging's secrets; both are named.
    elbv2 = aws.elbv2(env.region)
    balancer = elbv2.load_balancer(env.names.load_balancer)
    [listener] = [found.arn for found in elbv2.listeners(balancer.arn)]
    preview_rule = next(r for r in elbv2.rules(listener) if r.headers)
    aws.call("elbv2", "SetRulePriorities", env.region, RulePriorities=[{"RuleArn": preview_rule.arn, "Priority": 5}])
    role = f"{env.preview('pr-7').names.prefix}-web-task"
    aws.call("iam", "PutRolePolicy", "us-east-1", RoleName=role, PolicyName="reads-staging", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                                "Resource": _master_secret_arn(aws, env)}]}))
    results = {r.id: r for r in verify(aws, staging, config.app, drift=False)}
    assert not results["SY-E204"].passed and "priority 5 comes before the base's rule" in results["SY-E204"].detail
    assert not results["SY-E304"].passed and "secretsmanager:GetSecretValue" in results["SY-E304"].detail
    aws.call("elbv2", "SetRulePriorities", env.region, RulePriorities=[{"RuleArn": preview_rule.arn, "Priority": preview_rule.priority}])
    aws.call("iam", "DeleteRolePolicy", "us-east-1", RoleName=role, PolicyName="reads-staging")

    destroyed = previewing.destroy_preview(config, aws.target, "pr-7")
    assert destroyed.files >= 1 and destroyed.images == 4
    assert aws.cloudformation(env.region).stack(env.preview("pr-7").names.prefix) is None
    assert not [key for key, _ in aws.s3(env.region).versions(env.names.site_bucket) if key.startswith("pv/")]
    assert aws.ecr(env.region).image(env.names.repository, digest=report.images["web"].split("@")[1]) is None
    assert current_digest(aws, env) == released
    assert not [r for r in elbv2.rules(listener) if r.headers], "the preview's rules are gone from staging's listener"
    assert _get(base + "/pv/pr-7/api/info")[0] == 404
    assert _server_has(master, "app_pv_pr_7", "pv_pr_7") == (False, False), "its database and user are dropped"
    assert not [a for a in aws.call("application-autoscaling", "DescribeScheduledActions", env.region, ServiceNamespace="ecs")[
        "ScheduledActions"] if "-pv-pr-7" in a["ResourceId"]], "its awake hours' actions are gone with its scalable targets"
    assert "staging's" in _get(base + "/api/items")[1], "staging serves on, from its own rows"
    failed = [r for r in verify(aws, staging, config.app, drift=False) if not r.passed]
    assert not failed, [(r.id, r.detail) for r in failed]


def test_a_new_preview_whose_migrations_fail_is_taken_away_with_its_database(app, capfd):
    # [service]'s task makes the database, then its migrations fail: the task stops before the service starts, the
    # circuit breaker fails the stack (kept, not rolled back), and the preview's own task drops what was made.
    config, staging, aws = app
    env = staging.environment
    broken = config.directory / config.database.migrations / "0099_broken.expand.sql"
    broken.write_text("SELECT no_such_function();\n")
    try:
        with pytest.raises(DeployFailed, match="Circuit Breaker"):
            previewing.deploy_preview(config, aws.target, "pr-9")
    finally:
        broken.unlink()
    said = capfd.readouterr().err
    assert "migrate exited 1" in said and "web did not run" not in said, said[-2000:]  # which container, and its own words:
    assert "migrate: " in said and "no_such_function" in said, said[-2000:]
    assert aws.cloudformation(env.region).stack(env.preview("pr-9").names.prefix) is None
    assert _server_has(_master(aws, env), "app_pv_pr_9", "pv_pr_9") == (False, False)
    assert previewing.list_previews(config, aws.target) == []


def test_the_cap_keeps_the_oldest_until_it_goes_and_prune_takes_the_expired(app):
    config, _, aws = app
    from shipyard.aws.cloudformation import Stack
    from shipyard.previews import plan_deploy, previews_of

    now = datetime(2026, 12, 5, tzinfo=UTC)

    def stack(name, slot, created):
        return Stack(f"webapp-staging-pv-{name}", "CREATE_COMPLETE", created=created, tags={
            "shipyard:app": "webapp", "shipyard:environment": "staging", "shipyard:preview": name,
            "shipyard:preview-slot": str(slot), "shipyard:expires": "2026-12-08T00:00:00Z"})

    found = previews_of([stack("b", 1, now), stack("a", 0, now - timedelta(hours=1))], app="webapp", base="staging")
    assert [p.name for p in found] == ["a", "b"]
    with pytest.raises(Refused, match="the oldest is a"):
        plan_deploy(found, "c", cap=2, expires_after_days=3, now=now)
    assert plan_deploy(found, "b", cap=2, expires_after_days=3, now=now).slot == 1  # an existing one keeps its rules
    assert plan_deploy(found[1:], "c", cap=2, expires_after_days=3, now=now).slot == 0  # the lowest free slot
    assert [p.name for p in found if p.expired(now + timedelta(days=4))] == ["a", "b"]
    # Nothing expired here: prune destroys nothing.
    assert previewing.prune_previews(config, aws.target, now=now) == []
    with pytest.raises(UsageError, match="no ASCII letter or digit"):
        previewing.deploy_preview(config, aws.target, "ü")
