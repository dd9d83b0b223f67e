"""`shipyard up`: the README's main job, through the real entry point."""


def test_up_deploys_publishes_and_verifies_both_environments(cli, example_copy):
    result = cli("--config", str(example_copy), "up")
    assert result.code == 0, result.err
    rows = [line.split("\t") for line in result.out.splitlines() if line.startswith(("staging\t", "production\t"))]
    assert [r[0] for r in rows] == ["staging", "production"]
    for row in rows:
        assert row[6] == "18/18 pass"
        assert row[7].startswith("released sha256:") and row[8].startswith("http://127.0.0.1:")
        assert row[4].startswith("https://") and row[4].endswith(".cloudfront.net")
        assert row[5] == "3 uploaded, 0 unchanged"
    assert rows[0][1] == "111111111111" and rows[1][1] == "222222222222"
    assert "time: synth" in result.err


def test_up_on_aws_refuses_production_without_yes(cli, example_copy):
    result = cli("--config", str(example_copy), "up", "--aws")
    assert result.code == 2
    assert "environment production: is production; changes need confirmation; nothing was changed" in result.err
    assert "pass --yes" in result.err


def test_up_side_by_side_as_on_aws(cli, example_copy, monkeypatch):
    """On AWS, environments and independent stacks deploy at once; the embedded AWS takes the same threads."""
    from shipyard.app import up
    from shipyard.deploy import execute

    monkeypatch.setattr(execute, "SERIAL", None)
    monkeypatch.setattr(up, "SERIAL", None)
    result = cli("--config", str(example_copy), "up")
    assert result.code == 0, result.err
    assert [line.split("\t")[6] for line in result.out.splitlines() if line.startswith(("staging\t", "production\t"))] == \
        ["18/18 pass", "18/18 pass"]
