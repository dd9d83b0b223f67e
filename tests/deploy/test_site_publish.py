"""The site publisher leaks nothing: no symlink is followed, no directory outside the project is published."""

from __future__ import annotations

import os

from tests.conftest import EXAMPLE


def _objects(aws, env):
    listing = aws.call("s3", "ListObjectsV2", env.region, Bucket=env.names.site_bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_a_symlink_in_the_site_uploads_nothing_and_is_named(cli, deployed, assemblies, local_aws, example_copy):
    env, aws = assemblies["staging"].environment, deployed["staging"]
    before = _objects(aws, env)
    site = example_copy.parent / "site"
    os.symlink("/proc/self/environ", site / "env.txt")
    (site / ".env").write_text("SECRET=1\n")
    result = cli("--config", str(example_copy), "publish-site", "staging", "--endpoint", local_aws.endpoint)
    assert result.code == 2, result.err
    assert "holds symlinks, which are never published: env.txt; nothing was uploaded" in result.err
    assert _objects(aws, env) == before

    os.remove(site / "env.txt")
    (site / "new.html").write_text("<p>new</p>")
    published = cli("--config", str(example_copy), "publish-site", "staging", "--endpoint", local_aws.endpoint)
    assert published.code == 0, published.err
    assert "new.html" in _objects(aws, env) and ".env" not in _objects(aws, env)  # dotfiles stay private


def test_a_site_directory_outside_the_project_is_refused(cli, example_copy, tmp_path):
    for outside in ("../../../outside", "/etc"):
        text = example_copy.read_text()
        example_copy.write_text(text.replace('directory = "site"', f'directory = "{outside}"', 1))
        result = cli("--config", str(example_copy), "validate")
        assert result.code == 2, result.err
        assert "site.directory" in result.err and "is outside the directory that holds shipyard.toml" in result.err
        example_copy.write_text(text)


def test_a_directory_argument_outside_the_project_uploads_nothing(cli, deployed, assemblies, local_aws, tmp_path):
    env, aws = assemblies["staging"].environment, deployed["staging"]
    before = _objects(aws, env)
    result = cli("--config", str(EXAMPLE / "shipyard.toml"), "publish-site", "staging", "/etc", "--endpoint", local_aws.endpoint)
    assert result.code == 2 and "is outside" in result.err and "nothing was uploaded" in result.err
    assert _objects(aws, env) == before


def test_dotfiles_stay_private_unless_named_public(tmp_path):
    from shipyard.deploy.site import local_files

    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "security.txt").write_text("Contact: mailto:security@example.com\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text("[core]\n")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / ".env").write_text("SECRET=1\n")
    (tmp_path / ".nojekyll").write_text("")
    (tmp_path / "index.html").write_text("<p>hi</p>")
    assert sorted(local_files(tmp_path)) == [".well-known/security.txt", "index.html"]
    assert sorted(local_files(tmp_path, (".well-known", ".nojekyll"))) == [".nojekyll", ".well-known/security.txt", "index.html"]
    assert ".git/config" not in local_files(tmp_path, (".nojekyll",))
