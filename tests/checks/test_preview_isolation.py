"""SY-E304: a preview's task role keeps its deny of data actions on everything not tagged as its preview's. The static
half reads the preview stack as the blueprint makes it; the live half (an allow on the base's database secret added
to the role) is in tests/release/test_previews_local.py."""

from pathlib import Path

from shipyard.checks.rules.preview_isolation import RULE
from shipyard.config import load_config
from shipyard.synth import synthesize_preview

from ..conftest import copy_example
from .helpers import violations


def _preview_template(tmp_path: Path) -> dict:
    app = copy_example(tmp_path / "app")
    app.write_text(app.read_text() + '\n[previews]\nbase = "staging"\n')
    config = load_config(app)
    return synthesize_preview(config, "pr-7", slot=0, expires="2026-12-08T00:00:00Z", out_dir=tmp_path / "out").stacks[0].template()


def test_the_blueprints_preview_task_roles_keep_their_deny_and_one_without_it_fails(tmp_path):
    template = _preview_template(tmp_path)
    assert violations(RULE, template["Resources"]) == []
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::IAM::Policy":
            statements = resource["Properties"]["PolicyDocument"]["Statement"]
            statements[:] = [s for s in statements if s.get("Sid") != "OnlyThisPreviewsResources"]
    # The service's task role, and the database task's (psql needs no AWS access, and gets none).
    problems = sorted(problem.message for problem in violations(RULE, template["Resources"]))
    assert len(problems) == 2
    assert "webapp-staging-pv-pr-7-one-off-task has no OnlyThisPreviewsResources deny" in problems[0]
    assert "webapp-staging-pv-pr-7-web-task has no OnlyThisPreviewsResources deny" in problems[1]
