"""The generated pipeline: GitHub's OIDC rules, pinned actions, hash-locked installs before credentials, no
dangerous triggers, native builds per architecture, and the linters that run here (zizmor, check-jsonschema)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from shipyard.config import load_config
from shipyard.scaffold import hash_lock, pipeline
from shipyard.synth import synthesize, synthesize_preview

from .conftest import EXAMPLE, EXAMPLE_CONFIG
from .oidc_model import assumptions, fork_credentials, trust_problems

PIPELINE = (EXAMPLE / pipeline.WORKFLOW).read_text()
ROOT = Path(__file__).resolve().parent.parent
BEFORE = (Path(__file__).parent / "fixtures" / "ci-before-issue-12.yml").read_text()
INIT = ["--app", "webapp", "--repository", "acme/webapp", "--repository-owner-id", "4242001", "--repository-id", "917305218",
        "--region", "eu-west-1", "--staging-account", "111111111111", "--production-account", "222222222222",
        "--alert-email", "oncall@example.com", "--database"]


def _three_environments(tmp_path: Path) -> Path:
    """The example with a dev environment before staging: dev -> staging -> production."""
    app = tmp_path / "three"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    text = (app / "shipyard.toml").read_text().replace(
        "[environments.staging]", '[environments.dev]\naccount = "333333333333"\nwaf = false\narchitecture = "x86_64"\nspot = true\n\n'
                                  "[environments.staging]")
    text = text.replace('environment = "staging"', 'environment = "[!p]*"')
    (app / "shipyard.toml").write_text(text)
    return app / "shipyard.toml"


@pytest.fixture(scope="module")
def example_templates(tmp_path_factory) -> dict[str, dict]:
    config = load_config(EXAMPLE_CONFIG)
    return {s.name: s.template() for a in synthesize(config, config.select(None), tmp_path_factory.mktemp("oidc")) for s in a.stacks}


def _jobs(text: str) -> dict:
    return yaml.safe_load(text)["jobs"]


def test_example_is_exactly_what_init_generates(cli, tmp_path):
    (tmp_path / ".github").mkdir()
    shutil.copy(EXAMPLE / pipeline.SHIPYARD_LOCK, tmp_path / pipeline.SHIPYARD_LOCK)  # the locks' Python sets the pipeline's
    result = cli("init", str(tmp_path), *INIT, "--no-lock")
    assert result.code == 0, result.err
    assert (tmp_path / "shipyard.toml").read_text() == EXAMPLE_CONFIG.read_text()
    assert (tmp_path / pipeline.WORKFLOW).read_text() == PIPELINE
    # The closing hint points to what the user has, not to docs/ of shipyard's own repository.
    assert "docs/" not in result.out and "`shipyard COMMAND --help`" in result.out, result.out


def test_init_check_passes_on_the_example_and_fails_when_an_environment_is_added(cli, tmp_path):
    assert cli("init", "--check", "--from", str(EXAMPLE_CONFIG)).code == 0
    config = _three_environments(tmp_path)
    stale = cli("init", "--check", "--from", str(config))
    assert stale.code == 1 and "pipeline.yml differs from what shipyard.toml generates" in stale.err
    assert cli("init", "--from", str(config), "--no-lock").code == 0
    assert cli("init", "--check", "--from", str(config)).code == 0
    jobs = _jobs((config.parent / pipeline.WORKFLOW).read_text())
    assert jobs["dev"]["needs"] == "image" and jobs["staging"]["needs"] == ["image", "dev"]
    assert jobs["production"]["needs"] == ["image", "staging"]


def test_a_retired_workflow_or_a_changed_wheel_is_stale(cli, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    (app / ".github" / "workflows" / "deploy.yml").write_text("on: workflow_run\n")
    wheel = next((app / ".github" / "shipyard").glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    result = cli("init", "--check", "--from", str(app / "shipyard.toml"))
    assert result.code == 1
    assert ".github/workflows/deploy.yml still exists and would still run" in result.err
    assert "does not match its hash" in result.err


def test_init_refuses_bad_answers_and_an_existing_config(cli, tmp_path):
    bad = cli("init", str(tmp_path), *[a if a != "acme/webapp" else "acme" for a in INIT], "--no-lock")
    assert bad.code == 2 and "--repository: 'acme': 'acme' is not a GitHub repository; use owner/repo" in bad.err
    assert not (tmp_path / "shipyard.toml").exists()
    assert cli("init", str(tmp_path), *INIT, "--no-lock").code == 0
    again = cli("init", str(tmp_path), *INIT, "--no-lock")
    assert again.code == 2 and "already exists; nothing was written" in again.err


def test_every_action_is_pinned_to_a_commit_with_its_version():
    uses = [line.strip() for line in PIPELINE.splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert uses
    for line in uses:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


def test_installs_are_hash_locked_and_come_before_any_credential(tmp_path):
    for text in (PIPELINE, (_generated(tmp_path)).read_text()):
        for name, job in _jobs(text).items():
            steps = job.get("steps", [])
            runs = [str(s.get("run", "")) for s in steps]
            for run in runs:
                if "pip install" in run:
                    assert "--require-hashes" in run and "-r .github/" in run, (name, run)
            credential = next((i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")), None)
            if credential is None:
                continue
            for step in steps[credential:]:
                assert not re.search(r"\b(pip|pip3|uv|npm|apt-get|apt|gem) (install|add)\b", str(step.get("run", ""))), (name, step)
                assert "setup-python" not in str(step.get("uses", "")), (name, step)


def test_the_example_locks_hold():
    from shipyard.scaffold import lock_problems

    for name in (pipeline.SHIPYARD_LOCK, pipeline.TEST_LOCK):
        assert lock_problems(EXAMPLE, name) == [], name
        pins = {p.spec.split("==")[0].lower(): p for p in hash_lock.parse((EXAMPLE / name).read_text())}
        assert all(p.hashes for p in pins.values())
        # shipyard's own pins, as pyproject.toml declares them.
        assert pins["aws-cdk-lib"].spec == "aws-cdk-lib==2.275.0" and pins["boto3"].spec == "boto3==1.44.8"
    test_pins = {p.spec for p in hash_lock.parse((EXAMPLE / pipeline.TEST_LOCK).read_text())}
    assert {"starlette==1.10.0", "uvicorn==0.54.0", "pytest==9.2.0", "httpx==0.28.1"} <= test_pins


def test_no_dangerous_triggers_and_jobs_chained_in_promotion_order():
    workflow = yaml.safe_load(PIPELINE)
    events = workflow.get("on", workflow.get(True))
    assert "workflow_run" not in events and "pull_request_target" not in events
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["build"]["needs"] == "test" and jobs["image"]["needs"] == "build"
    assert jobs["staging"]["needs"] == "image" and jobs["production"]["needs"] == ["image", "staging"]
    assert jobs["staging"]["environment"] == "staging"
    assert jobs["production"]["environment"] == "production"
    runs = {job: " ".join(str(s.get("run", "")) for s in spec.get("steps", [])) for job, spec in jobs.items()}
    assert 'shipyard release staging --aws --image "$DIGEST"' in runs["staging"]
    assert 'shipyard promote staging production --aws --yes --digest "$DIGEST"' in runs["production"]
    assert 'shipyard rollback "$ENVIRONMENT" --aws --yes' in runs["rollback"]
    for job in ("staging", "production"):
        assert jobs[job]["concurrency"] == {"group": f"deploy-{job}", "cancel-in-progress": False}
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY"):
        assert forbidden not in PIPELINE


def test_each_architecture_builds_natively_is_scanned_before_its_push_and_the_index_is_attested():
    jobs = _jobs(PIPELINE)
    matrix = jobs["build"]["strategy"]["matrix"]["include"]
    assert {(m["arch"], m["runner"]) for m in matrix} == {("amd64", "ubuntu-24.04"), ("arm64", "ubuntu-24.04-arm")}
    assert jobs["build"]["runs-on"] == "${{ matrix.runner }}"
    steps = jobs["build"]["steps"]
    names = [s["name"] for s in steps]
    build = names.index("Build the image for this architecture")
    scan = names.index("Scan the image just built (fails on HIGH and CRITICAL)")
    push = next(i for i, n in enumerate(names) if n.startswith("Push by digest"))
    assert build < scan < push
    assert steps[scan]["with"]["image-ref"] == steps[build]["with"]["tags"] and steps[scan]["with"]["exit-code"] == "1"
    assert "push-by-digest=true" in steps[push]["with"]["outputs"]
    assert any(s.get("with", {}).get("sbom-path") for s in steps[push:])
    image = jobs["image"]["steps"]
    assert any("imagetools create" in str(s.get("run", "")) for s in image)
    provenance = next(s for s in image if str(s.get("uses", "")).startswith("actions/attest@"))
    assert provenance["with"]["subject-digest"] == "${{ steps.index.outputs.digest }}"
    assert "needs.image.outputs.digest" in str(jobs["staging"]["steps"])  # the release digest is the index digest


def _generated(tmp_path: Path) -> Path:
    config = _three_environments(tmp_path)
    shutil.copy(EXAMPLE / pipeline.SHIPYARD_LOCK, config.parent / pipeline.SHIPYARD_LOCK)
    from shipyard.scaffold import write_workflow

    return write_workflow(load_config(config))[0]


def _lint(path: Path) -> None:
    """zizmor (pedantic, every severity) finds nothing, and the workflow passes GitHub's workflow schema."""
    bin_dir = Path(sys.executable).parent
    zizmor = subprocess.run([str(bin_dir / "zizmor"), "--offline", "--persona", "pedantic", "--min-severity", "low",
                             "--format", "json", str(path)], capture_output=True, text=True)
    assert zizmor.returncode == 0 and json.loads(zizmor.stdout) == [], zizmor.stdout[-3000:] + zizmor.stderr[-2000:]
    schema = subprocess.run([str(bin_dir / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(path)],
                            capture_output=True, text=True)
    assert schema.returncode == 0, schema.stdout + schema.stderr


def _linters_available() -> list[str]:
    return [tool for tool in ("zizmor", "check-jsonschema") if shutil.which(tool, path=str(Path(sys.executable).parent)) is None]


@pytest.mark.parametrize("which", ["example", "three environments"])
def test_zizmor_pedantic_and_the_workflow_schema_pass(which, tmp_path):
    assert _linters_available() == [], "the test dependencies include zizmor and check-jsonschema"
    path = EXAMPLE / pipeline.WORKFLOW if which == "example" else _generated(tmp_path)
    _lint(path)


def test_every_job_assumes_a_role_that_trusts_exactly_its_token(example_templates):
    app = load_config(EXAMPLE_CONFIG).app
    found = assumptions(PIPELINE, app, branch=app.branch)
    assert {a.job for a in found} == {"build", "image", "staging", "production", "rollback"}
    for assumption in found:
        assert trust_problems(example_templates, assumption.role_arn, assumption.subject) == [], assumption
    build = next(a for a in found if a.job == "build")
    assert build.subject == "repo:acme@4242001/webapp@917305218:ref:refs/heads/main"
    assert build.role_arn.endswith(":role/webapp-staging-github-push")


def test_the_model_finds_the_image_job_that_could_not_assume_its_role(example_templates):
    """Before this change the image job ran outside any environment but assumed the staging deploy role."""
    app = load_config(EXAMPLE_CONFIG).app.model_copy(update={"repository_owner_id": None, "repository_id": None, "oidc_subject": None})
    image = next(a for a in assumptions(BEFORE, app, branch="main") if a.job == "image")
    assert image.subject == "repo:acme/webapp:ref:refs/heads/main"
    problems = trust_problems(example_templates, "arn:aws:iam::111111111111:role/webapp-staging-github-deploy", image.subject)
    assert problems and "the job's token carries 'repo:acme/webapp:ref:refs/heads/main'" in problems[0]


def test_wider_trust_and_name_only_trust_of_an_immutable_repository_fail(example_templates):
    app = load_config(EXAMPLE_CONFIG).app
    role = "arn:aws:iam::111111111111:role/webapp-staging-github-deploy"
    subject = app.subject("environment:staging")
    assert trust_problems(example_templates, role, subject) == []
    # The same repository's name-only subject is not trusted: a recycled name cannot assume the role.
    assert trust_problems(example_templates, role, "repo:acme/webapp:environment:staging")
    widened = json.loads(json.dumps(example_templates))
    for template in widened.values():
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::IAM::Role" and resource["Properties"].get("RoleName") == "webapp-staging-github-deploy":
                statement = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
                statement["Condition"]["StringLike"] = {"token.actions.githubusercontent.com:sub": "repo:acme@4242001/*"}
                del statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    problems = trust_problems(widened, role, subject)
    assert any("only StringEquals is exact" in p for p in problems)


def test_a_requirement_missing_from_the_test_lock_makes_the_pipeline_stale(cli, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    requirements = app / "service" / "requirements.txt"
    requirements.write_text(requirements.read_text() + "redis==5.2.1\n")
    stale = cli("init", "--check", "--from", str(app / "shipyard.toml"))
    assert stale.code == 1 and "does not pin redis==5.2.1" in stale.err


def _with_admin(tmp_path: Path) -> Path:
    """The example with a web workload, a worker and a job beside [service], each built from its own directory."""
    app = tmp_path / "set"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    for directory in ("admin", "mailer", "nightly"):
        (app / directory).mkdir()
        shutil.copy(app / "service" / "Dockerfile", app / directory / "Dockerfile")
    text = (app / "shipyard.toml").read_text()
    at = text.index("\n[defaults]")
    (app / "shipyard.toml").write_text(text[:at] + '\n[services.admin]\nkind = "web"\ndirectory = "admin"\nroutes = ["/admin/*"]\n'
                                       'health_check_path = "/admin/healthz"\n\n[services.mailer]\nkind = "worker"\ndirectory = "mailer"\n'
                                       '\n[jobs.nightly]\ndirectory = "nightly"\nschedule = "rate(1 day)"\n' + text[at:])
    return app / "shipyard.toml"


def test_a_set_builds_each_image_per_architecture_and_releases_the_set_by_digest(tmp_path):
    from shipyard.scaffold import write_workflow

    path = write_workflow(load_config(_with_admin(tmp_path)))[0]
    jobs = _jobs(path.read_text())
    legs = {(m["image"], m["context"], m["repository"], m["arch"]) for m in jobs["build"]["strategy"]["matrix"]["include"]}
    assert legs == {(image, context, repository, arch) for image, context, repository in
                    (("service", "service", "webapp/staging"), ("admin", "admin", "webapp/staging/admin"),
                     ("mailer", "mailer", "webapp/staging/mailer"), ("nightly", "nightly", "webapp/staging/nightly"))
                    for arch in ("amd64", "arm64")}
    steps = jobs["build"]["steps"]
    names = [s["name"] for s in steps]
    assert names.index("Build the image for this architecture") < names.index("Scan the image just built (fails on HIGH and CRITICAL)") \
        < next(i for i, n in enumerate(names) if n.startswith("Push by digest"))
    assert {m["image"] for m in jobs["image"]["strategy"]["matrix"]["include"]} == {"service", "admin", "mailer", "nightly"}
    runs = {job: " ".join(str(s.get("run", "")) for s in jobs[job]["steps"]) for job in ("staging", "production")}
    each = '--workload "admin=$(cat index/admin)" --workload "mailer=$(cat index/mailer)" --workload "nightly=$(cat index/nightly)"'
    # Staging runs the changed job once (--smoke); production promotes what passed there.
    assert f'shipyard release staging --aws --smoke --image "$(cat index/service)" {each}' in runs["staging"]
    assert f'shipyard promote staging production --aws --yes --digest "$(cat index/service)" {each}' in runs["production"]
    _lint(path)


def test_init_with_workloads_writes_their_tables_and_starters_and_they_validate(cli, tmp_path):
    result = cli("init", str(tmp_path), *INIT, "--no-lock", "--workload", "admin:web", "--workload", "catalog:backend",
                 "--workload", "orders:worker", "--workload", "nightly:job")
    assert result.code == 0, result.err
    config = load_config(tmp_path / "shipyard.toml")
    assert {n: s.kind for n, s in config.services.items()} == {"admin": "web", "catalog": "backend", "orders": "worker"}
    assert config.services["admin"].routes == ["/admin/*"] and config.jobs["nightly"].schedule == "cron(0 3 * * ? *)"
    for name in ("admin", "catalog", "orders", "nightly"):
        assert (tmp_path / name / "Dockerfile").is_file() and (tmp_path / name / "main.py").is_file()
    assert 'HEALTH = "NAME", "/admin/healthz"'.replace("NAME", "admin") in (tmp_path / "admin" / "main.py").read_text()
    assert "boto3==" in (tmp_path / "orders" / "requirements.txt").read_text()
    # The pipeline builds each of them, and the first release runs the job once.
    assert "index/nightly" in (tmp_path / pipeline.WORKFLOW).read_text() and "--smoke" in (tmp_path / pipeline.WORKFLOW).read_text()
    assert "a starter for each workload" in result.out, result.out


def test_init_refuses_a_workload_that_is_not_name_and_kind(cli, tmp_path):
    result = cli("init", str(tmp_path), *INIT, "--no-lock", "--workload", "admin:frontend")
    assert result.code == 2 and "--workload admin:frontend: is not NAME:KIND" in result.err
    assert not (tmp_path / "shipyard.toml").exists()


def _with_previews(tmp_path: Path) -> Path:
    """The example taking preview environments in, in staging."""
    app = tmp_path / "previews"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    (app / "shipyard.toml").write_text((app / "shipyard.toml").read_text() + '\n[previews]\nbase = "staging"\n')
    return app / "shipyard.toml"


def test_the_preview_workflow_passes_the_linters_and_gives_a_fork_no_credential(tmp_path):
    from shipyard.scaffold import write_workflow

    config = load_config(_with_previews(tmp_path))
    shutil.copy(EXAMPLE / pipeline.SHIPYARD_LOCK, config.directory / pipeline.SHIPYARD_LOCK)
    written = write_workflow(config)
    path = config.directory / pipeline.PREVIEW_WORKFLOW
    assert path in written
    _lint(path)
    text = path.read_text()
    # A pull request from a fork reaches no step that holds a credential, here or in the pipeline.
    assert fork_credentials(text) == [] and fork_credentials(PIPELINE) == []
    # Without the head-repository guard, the model sees the fork reach the preview role.
    assert fork_credentials(text.replace("&& github.event.pull_request.head.repo.full_name == github.repository", "")) == ["deploy", "destroy"]
    # Built and scanned before any credential; pushed by digest after.
    steps = [step.get("name", "") for step in yaml.safe_load(text)["jobs"]["deploy"]["steps"]]
    assert steps.index("Scan web (fails on HIGH and CRITICAL)") < steps.index("AWS credentials by OIDC") < steps.index("Push web by digest")


def _actions(statement: dict) -> set[str]:
    return {statement["Action"]} if isinstance(statement["Action"], str) else set(statement["Action"])


def test_the_preview_jobs_assume_the_preview_role_which_trusts_only_pull_requests_and_the_prune_its_own(tmp_path):
    from shipyard.scaffold import preview_workflow

    config = load_config(_with_previews(tmp_path))
    templates = {s.name: s.template() for s in synthesize(config, config.select(["staging"]), tmp_path / "out")[0].stacks}
    found = assumptions(preview_workflow(config), config.app, branch=config.app.branch)
    main = config.app.subject("ref:refs/heads/main")
    assert {(a.job, a.subject, a.role_arn.rsplit("/", 1)[1]) for a in found} == {
        ("deploy", config.app.subject("pull_request"), "webapp-staging-preview"),
        ("destroy", config.app.subject("pull_request"), "webapp-staging-preview"),
        ("prune", main, "webapp-staging-preview-prune")}  # the schedule runs on the default branch
    for assumption in found:
        assert trust_problems(templates, assumption.role_arn, assumption.subject) == [], assumption
    # Neither role trusts the other's runs: a pull request cannot prune, the branch cannot make a preview.
    assert trust_problems(templates, "arn:aws:iam::111111111111:role/webapp-staging-preview", main)
    assert trust_problems(templates, "arn:aws:iam::111111111111:role/webapp-staging-preview-prune", config.app.subject("pull_request"))
    pruning = next(r["Properties"] for r in templates["webapp-staging-foundation"]["Resources"].values()
                   if r["Type"] == "AWS::IAM::ManagedPolicy" and "preview-prune" in r["Properties"].get("Description", ""))
    actions = {a for s in pruning["PolicyDocument"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"cloudformation:DeleteStack", "ecs:RunTask", "s3:DeleteObjectVersion", "ecr:BatchDeleteImage"} <= actions
    assert not actions & {"cloudformation:CreateChangeSet", "ecr:PutImage", "iam:PutRolePolicy", "s3:PutObject"}, "it makes nothing"
    # The preview role is not the deploy role: a pull request's token assumes no environment's role.
    assert trust_problems(templates, "arn:aws:iam::111111111111:role/webapp-staging-github-deploy", config.app.subject("pull_request"))
    policy = next(r["Properties"] for r in templates["webapp-staging-foundation"]["Resources"].values()
                  if r["Type"] == "AWS::IAM::ManagedPolicy" and r["Properties"].get("Description", "").startswith("webapp-staging-preview manages"))
    resources = json.dumps([s["Resource"] for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "PreviewStacks"])
    assert "stack/webapp-staging-pv-*/*" in resources  # its stacks are previews' only
    # A role it makes, or a policy it writes on one, carries the previews' boundary; every role of a preview does.
    statements = policy["PolicyDocument"]["Statement"]
    writes = [s for s in statements if {"iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"} & _actions(s)]
    assert [_actions(s) for s in writes] == [{"iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"}]
    assert "policy/webapp-staging-preview-boundary" in json.dumps(writes[0]["Condition"]["StringEquals"]["iam:PermissionsBoundary"])
    preview = synthesize_preview(config, "pr-7", slot=0, expires="2026-12-08T00:00:00Z", out_dir=tmp_path / "pv").stacks[0].template()
    # Scalable targets have no name of the preview's: every scaling write holds only where the shipyard:preview tag is
    # (asked for on a new target, present on an existing one), and the preview's targets carry it.
    scaling = [s for s in statements if any(a.startswith("application-autoscaling:") and not a.split(":")[1].startswith("Describe")
                                            for a in _actions(s))]
    assert scaling and all(s["Condition"] in ({"Null": {"aws:RequestTag/shipyard:preview": "false"}},
                                              {"Null": {"aws:ResourceTag/shipyard:preview": "false"}}) for s in scaling)
    targets = [r["Properties"] for r in preview["Resources"].values() if r["Type"] == "AWS::ApplicationAutoScaling::ScalableTarget"]
    assert targets and all({"Key": "shipyard:preview", "Value": "pr-7"} in t["Tags"] for t in targets)
    roles = [r["Properties"] for r in preview["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) >= 4 and all("policy/webapp-staging-preview-boundary" in json.dumps(r.get("PermissionsBoundary")) for r in roles)
