"""The generated workflows: pinned actions, least privilege, and the reference design's Part 3 failures made impossible."""

from __future__ import annotations

import re

import pytest
import yaml

from shipyard.scaffold import FILES, Answers, render

from .conftest import EXAMPLE

EXAMPLE_ANSWERS = Answers("webapp", "acme/webapp", "eu-west-1", "111111111111", "222222222222", ("oncall@example.com",))
WORKFLOWS = {name: (EXAMPLE / ".github" / "workflows" / name).read_text() for name in ("ci.yml", "deploy.yml")}


def _steps(workflow: str, job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOWS[workflow])["jobs"][job]["steps"]


def _index(steps: list[dict], predicate) -> int:
    return next(i for i, step in enumerate(steps) if predicate(step))


def _uses(prefix: str):
    return lambda step: str(step.get("uses", "")).startswith(prefix)


def test_example_is_exactly_what_init_generates(cli, tmp_path):
    result = cli("init", str(tmp_path), "--app", "webapp", "--repository", "acme/webapp", "--region", "eu-west-1",
                 "--staging-account", "111111111111", "--production-account", "222222222222",
                 "--alert-email", "oncall@example.com")
    assert result.code == 0, result.err
    for name in FILES:
        assert (tmp_path / name).read_text() == (EXAMPLE / name).read_text(), name
    assert render(EXAMPLE_ANSWERS)["shipyard.toml"] == (EXAMPLE / "shipyard.toml").read_text()


def test_init_refuses_bad_answers_and_overwrites(cli, tmp_path):
    bad = cli("init", str(tmp_path), "--app", "webapp", "--repository", "acme", "--region", "eu-west-1",
              "--staging-account", "111111111111", "--production-account", "222222222222")
    assert bad.code == 2 and "app.repository: 'acme' is not a GitHub repository" in bad.err
    assert not (tmp_path / "shipyard.toml").exists()
    args = ["init", str(tmp_path), "--app", "webapp", "--repository", "acme/webapp", "--region", "eu-west-1",
            "--staging-account", "111111111111", "--production-account", "222222222222"]
    assert cli(*args).code == 0
    again = cli(*args)
    assert again.code == 2 and "already exists; nothing was written" in again.err


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_every_action_is_pinned_to_a_commit_with_its_version(name):
    uses = [line.strip() for line in WORKFLOWS[name].splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert uses
    for line in uses:
        assert re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), line


@pytest.mark.parametrize("name", ["ci.yml", "deploy.yml"])
def test_no_long_lived_aws_keys_and_least_privilege(name):
    text = WORKFLOWS[name]
    for forbidden in ("aws-access-key-id", "aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"):
        assert forbidden not in text
    workflow = yaml.safe_load(text)
    assert workflow["permissions"] == {"contents": "read"}
    allowed = {("contents", "read"), ("id-token", "write"), ("security-events", "write"), ("actions", "read")}
    for job in workflow["jobs"].values():
        assert set(job.get("permissions", {}).items()) <= allowed, job.get("permissions")


def test_ci_checks_out_builds_scans_then_pushes():
    steps = _steps("ci.yml", "image")
    checkout = _index(steps, _uses("actions/checkout@"))
    build = _index(steps, lambda s: _uses("docker/build-push-action@")(s) and s["with"].get("load") is True)
    scan = _index(steps, _uses("aquasecurity/trivy-action@"))
    credentials = _index(steps, _uses("aws-actions/configure-aws-credentials@"))
    login = _index(steps, _uses("aws-actions/amazon-ecr-login@"))
    push = _index(steps, lambda s: _uses("docker/build-push-action@")(s) and s["with"].get("push") is True)
    assert checkout < build < scan < push  # Part 3: no build without the Dockerfile, no scan of a missing image
    assert credentials < login < push  # Part 3: fresh OIDC credentials before the ECR login
    assert steps[scan]["with"]["image-ref"] == steps[build]["with"]["tags"]  # the image just built
    assert steps[scan]["with"]["severity"] == "HIGH,CRITICAL" and steps[scan]["with"]["exit-code"] == "1"
    assert steps[build]["with"]["push"] is False
    assert "role-to-assume" in steps[credentials]["with"]
    for step in steps[credentials:]:
        assert "refs/heads/main" in step.get("if", "")  # only main pushes
    test_steps = _steps("ci.yml", "test")
    assert _index(test_steps, _uses("actions/checkout@")) == 0
    assert any("shipyard check --format sarif" in s.get("run", "") for s in test_steps)


def test_deploy_releases_staging_then_promotes_the_same_digest():
    workflow = yaml.safe_load(WORKFLOWS["deploy.yml"])
    jobs = workflow["jobs"]
    assert jobs["staging"]["environment"] == "staging" and jobs["production"]["environment"] == "production"
    assert jobs["production"]["needs"] == "staging"
    runs = {job: " ".join(s.get("run", "") for s in spec["steps"]) for job, spec in jobs.items()}
    assert 'shipyard release staging --aws --image "$DIGEST"' in runs["staging"]
    assert "shipyard publish-site staging" in runs["staging"]
    assert 'shipyard promote staging production --aws --yes --digest "$DIGEST"' in runs["production"]
    assert "needs.staging.outputs.digest" in str(jobs["production"]["steps"])
    assert 'shipyard rollback "$ENVIRONMENT" --aws' in runs["rollback"]
    assert jobs["staging"]["concurrency"]["group"] == "deploy-staging"
    assert jobs["production"]["concurrency"]["group"] == "deploy-production"
    assert jobs["rollback"]["concurrency"]["group"] == "deploy-${{ inputs.environment }}"
    for spec in jobs.values():
        assert spec["permissions"]["id-token"] == "write"
        credentials = next(s for s in spec["steps"] if _uses("aws-actions/configure-aws-credentials@")(s))
        assert "role-to-assume" in credentials["with"]
