"""`shipyard import copilot`: a Copilot workspace of every workload type becomes a shipyard.toml that validates, and
its report accounts for every key of every manifest; what has no counterpart stops the import before a file is
written; hostile manifests get one line each.

The fixture (tests/fixtures/copilot/shop) is written from the fields Copilot's manifest reference documents: a load
balanced web service with an alias and an autoscaling range, a backend, a worker subscribed to the web service's
topic, a scheduled job, a static site, environments that import a VPC and a certificate, an Aurora PostgreSQL addon,
and a pipeline. The app's code is examples/shop's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from shipyard.config import load_config
from tests.copilot import copilot_workspace

ACCOUNTS = ("--account", "test=111111111111", "--account", "prod=222222222222", "--region", "eu-west-1")


@pytest.fixture
def workspace(tmp_path) -> Path:
    return copilot_workspace(tmp_path / "shop")


def _keys(data, prefix=""):
    """Every key of a YAML document at every depth, with its value, counted independently of the importer."""
    if isinstance(data, dict):
        for name, value in data.items():
            path = f"{prefix}.{name}" if prefix else name
            yield path, value
            yield from _keys(value, path)
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _keys(item, f"{prefix}[{index}]")


def _accounted(path, value, rows) -> bool:
    if any(path == r or path.startswith(r + ".") or path.startswith(r + "[") for r in rows):
        return True
    below = [(p, v) for p, v in _keys(value, path)] if isinstance(value, (dict, list)) else []
    # A leaf: a value, or a list of values (a list's mappings have keys of their own).
    leaves = [p for p, v in below if not (isinstance(v, dict) and v) and not (isinstance(v, list) and any(isinstance(i, dict) for i in v))]
    return bool(leaves) and all(_accounted(p, None, rows) for p in leaves)


def test_every_workload_type_imports_validates_and_every_key_is_accounted_for(cli, workspace):
    result = cli("import", "copilot", str(workspace), *ACCOUNTS, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["decisions"] == [] and report["written"] == [str(workspace / "shipyard.toml")]
    rows_by_file: dict[str, list[str]] = {}
    for row in report["rows"]:
        assert row["outcome"] in ("mapped", "changed", "not carried over")
        assert row["outcome"] == "mapped" or row["note"], f"{row['file']}: {row['key']}: a change or a drop says why"
        rows_by_file.setdefault(row["file"], []).append(row["key"])
    manifests = sorted(p.relative_to(workspace).as_posix() for p in (workspace / "copilot").rglob("*.yml"))
    counted = 0
    for manifest in manifests:
        # BaseLoader keeps every scalar as text, as Copilot's YAML 1.2 reads `on:`; addons' !Ref tags are read as text.
        data = yaml.load((workspace / manifest).read_text(), Loader=_TaggedBaseLoader)
        keys = list(_keys(data))
        missing = [p for p, v in keys if not _accounted(p, v, rows_by_file.get(manifest, []))]
        assert not missing, f"{manifest}: keys the report does not account for: {missing}"
        counted += len(keys)
    assert counted > 150 and len(manifests) == 9

    config = load_config(workspace / "shipyard.toml")
    assert list(config.environments) == ["test", "prod"]  # the pipeline's stage order
    assert config.environments["prod"].production and config.environments["prod"].waf
    assert config.environments["prod"].domain == "shop.example.com"
    assert config.environments["test"].domain == "test.shop.example.com" and config.environments["test"].spot
    assert (config.service.directory, config.service.port, config.service.publishes, config.service.calls) == ("api", 8000, ["api-orders"], ["catalog"])
    # The topic named like the worker takes its publisher's name; Copilot delivered SNS's envelope, and still does.
    assert (config.topics["api-orders"].subscribers, config.topics["api-orders"].raw_delivery) == (["orders"], False)
    filters = [r for r in report["rows"] if r["key"] == "subscribe.topics[0].filter_policy"]
    assert [(r["file"], r["outcome"]) for r in filters] == [("copilot/orders/manifest.yml", "not carried over")]
    assert config.service.secrets == {"PAYMENT_KEY": "ssm:/copilot/shop/{environment}/secrets/PAYMENT_KEY",
                                      "SIGNING_SECRET": "secretsmanager:shop/signing"}
    assert (config.environments["test"].desired_count, config.environments["test"].max_count) == (1, 2)
    assert (config.environments["prod"].desired_count, config.environments["prod"].max_count, config.environments["prod"].cpu_target) == (2, 6, 60)
    catalog, orders = config.services["catalog"], config.services["orders"]
    assert (catalog.kind, catalog.port, catalog.health_check_path) == ("backend", 8001, "/healthz")
    assert (orders.kind, orders.visibility_timeout, orders.max_receive_count) == ("worker", 30, 3)
    assert orders.secrets == {"GITHUB_TOKEN": "ssm:GH_TOKEN_SECRET"}  # the same name, without a slash added
    assert config.environments["test"].services["orders"].backlog_per_task == 20  # 10 s latency / 0.5 s a message
    nightly = config.jobs["nightly"]
    assert (nightly.schedule, nightly.timeout_minutes, nightly.retries) == ("cron(0 3 * * ? *)", 30, 3)
    assert config.database is not None and (config.database.engine, config.database.version, config.database.name) == (
        "aurora-postgresql", "16", "shop")
    assert config.database.username == "postgres"  # from the addon secret's template, as the cluster was created
    # Serverless v2 capacity from the addon's Mappings: the minimum by Ref Env (test pauses), the maximum from "All".
    assert [(config.environments[e].database_min_capacity, config.environments[e].database_max_capacity)
            for e in ("test", "prod")] == [(0, 8), (1, 8)]
    assert nightly.database and orders.database
    assert config.site.directory == "site"
    assert config.app.repository == "acme/shop"

    table = cli("import", "copilot", str(workspace), *ACCOUNTS, "--force")
    assert table.code == 0, table.err
    assert "copilot/api/manifest.yml" in table.out and "not carried over" in table.out and "wrote" in table.out


class _TaggedBaseLoader(yaml.BaseLoader):
    pass


_TaggedBaseLoader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node)
                                        if isinstance(node, yaml.ScalarNode) else loader.construct_sequence(node)
                                        if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node))


def test_a_key_the_importer_does_not_know_is_reported_by_name_and_file(cli, workspace):
    manifest = workspace / "copilot" / "catalog" / "manifest.yml"
    manifest.write_text(manifest.read_text() + "\nfuture_feature:\n  enabled: true\n")
    result = cli("import", "copilot", str(workspace), *ACCOUNTS, "--format", "json")
    assert result.code == 0, result.err
    rows = [r for r in json.loads(result.out)["rows"] if r["key"] == "future_feature.enabled"]
    assert rows == [{"file": "copilot/catalog/manifest.yml", "key": "future_feature.enabled", "outcome": "not carried over",
                     "target": "", "note": "not a key shipyard knows for a Backend Service"}]


@pytest.mark.parametrize("change, expected", [
    (None, "environment 'prod': its AWS account is kept by Copilot outside the workspace; pass --account prod=<12 digits>"),
    (("api", "  port: 8000", "  port: 80"), "copilot/api/manifest.yml: image.port: 80 is a privileged port"),
    (("nightly", 'schedule: "0 3 * * *"', "schedule: none"), "copilot/nightly/manifest.yml: on.schedule: none"),
    (("api", "platform: linux/arm64", "platform: windows/x86_64"), "copilot/api/manifest.yml: platform: 'windows/x86_64'"),
    (("api", "path: 'api'", "path: '/'"), "copilot/api/manifest.yml: http.path: '/': shipyard's primary service answers /api/*"),
])
def test_what_has_no_counterpart_is_a_decision_and_nothing_is_written(cli, workspace, change, expected):
    accounts = ACCOUNTS
    if change is None:
        accounts = ("--account", "test=111111111111", "--region", "eu-west-1")
    else:
        manifest = workspace / "copilot" / change[0] / "manifest.yml"
        assert change[1] in manifest.read_text()
        manifest.write_text(manifest.read_text().replace(change[1], change[2]))
    result = cli("import", "copilot", str(workspace), *accounts)
    assert result.code == 1
    assert expected in result.err
    assert "nothing was written" in result.err
    assert not (workspace / "shipyard.toml").exists()


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))


@pytest.mark.parametrize("name, text, expected", [
    ("malformed", "name: catalog\ntype: Backend Service\nimage: [unclosed\n", "copilot/catalog/manifest.yml: is not valid YAML (line"),
    ("alias bomb", "name: catalog\ntype: Backend Service\n" + BOMB, "copilot/catalog/manifest.yml: b[0]: uses an anchor and alias"),
    ("huge value", "name: catalog\ntype: Backend Service\nvariables:\n  BLOB: " + "x" * 10_000_000 + "\n",
     "copilot/catalog/manifest.yml: variables.BLOB: holds a value of 10,000,000 characters"),
    ("leaves the workspace", "name: catalog\ntype: Backend Service\nimage:\n  build: ../../../etc/Dockerfile\n",
     "copilot/catalog/manifest.yml: image.build: '../../../etc/Dockerfile' leaves the workspace"),
    ("merge key", "name: catalog\ntype: Backend Service\nbase: &base {cpu: 256}\nimage:\n  <<: *base\n", "image: uses a merge key"),
    ("object tag", "name: catalog\ntype: Backend Service\ncpu: !!python/object/apply:os.system [\"true\"]\n",
     "copilot/catalog/manifest.yml: cpu: has the tag 'tag:yaml.org,2002:python/object/apply:os.system'"),
    ("unknown type", "name: catalog\ntype: Serverless Function\n", "copilot/catalog/manifest.yml: type: 'Serverless Function' is not a Copilot workload type"),
    ("duplicate key", "name: catalog\ntype: Backend Service\ncpu: 256\ncpu: 512\n", "copilot/catalog/manifest.yml: cpu: is given twice"),
])
def test_a_hostile_manifest_is_one_line_and_no_file(cli, workspace, name, text, expected):
    (workspace / "copilot" / "catalog" / "manifest.yml").write_text(text)
    result = cli("import", "copilot", str(workspace), *ACCOUNTS)
    assert result.code == 2, (name, result.err)
    assert expected in result.err, result.err
    assert len(result.err.strip().splitlines()) <= 2  # the line, and its hint where there is one
    assert "Traceback" not in result.err
    assert not (workspace / "shipyard.toml").exists()


def test_a_merge_key_without_an_alias_is_refused(cli, workspace):
    (workspace / "copilot" / "catalog" / "manifest.yml").write_text("name: catalog\ntype: Backend Service\nimage:\n  <<: {port: 8001}\n")
    result = cli("import", "copilot", str(workspace), *ACCOUNTS)
    assert result.code == 2 and "copilot/catalog/manifest.yml: image: uses a merge key '<<'" in result.err


def test_a_manifest_linked_from_outside_the_workspace_is_not_read(cli, workspace, tmp_path):
    outside = tmp_path / "elsewhere.yml"
    outside.write_text("name: catalog\ntype: Backend Service\n")
    manifest = workspace / "copilot" / "catalog" / "manifest.yml"
    manifest.unlink()
    manifest.symlink_to(outside)
    result = cli("import", "copilot", str(workspace), *ACCOUNTS)
    assert result.code == 2 and "copilot/catalog/manifest.yml: leads outside the workspace" in result.err


def test_no_workspace_and_an_existing_config_are_refused(cli, workspace, tmp_path):
    assert "copilot/.workspace: is missing: not a Copilot workspace" in cli("import", "copilot", str(tmp_path)).err
    (workspace / "shipyard.toml").write_text("# mine\n")
    result = cli("import", "copilot", str(workspace), *ACCOUNTS)
    assert result.code == 2 and "already exists; nothing was written" in result.err
    assert (workspace / "shipyard.toml").read_text() == "# mine\n"
    assert cli("import", "copilot", str(workspace), "--account", "prod=12").code == 2


def test_pipeline_is_written_beside_the_config_and_matches_it(cli, workspace):
    result = cli("import", "copilot", str(workspace), *ACCOUNTS, "--pipeline")
    assert result.code == 0, result.err
    workflow = workspace / ".github" / "workflows" / "pipeline.yml"
    assert workflow.is_file() and "wrote" in result.out
    # The environments in the Copilot pipeline's stage order, the same digest promoted from test to prod.
    text = workflow.read_text()
    assert text.index("environment: test") < text.index("environment: prod")
    assert "init --from shipyard.toml --lock" in result.out  # the locks need PyPI, as with init --no-lock
    checked = cli("--config", str(workspace / "shipyard.toml"), "init", "--check")
    assert checked.code == 1 and checked.err.count("missing; run `shipyard init --lock`") == 2 and "2 problem(s)" in checked.err
