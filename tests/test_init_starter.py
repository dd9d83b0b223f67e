"""A newcomer's first minutes: `shipyard init` with every answer a flag (no terminal) in an empty directory, then
`shipyard up` on an 80-column terminal: the starter service is built, released to both environments and answers
through each printed URL, which stands whole on its line, beside the starter page that shows what it answers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.request

import pytest

from .conftest import LIVE_CHECKS
from .kept_up import kept_up, local_urls

pytestmark = [pytest.mark.embedded, pytest.mark.long]  # `up` starts an embedded AWS of its own

ANSWERS = ["--app", "starter", "--repository", "acme/starter", "--region", "eu-west-1",
           "--staging-account", "111111111111", "--production-account", "222222222222"]

@pytest.fixture(scope="module")
def started(tmp_path_factory):
    directory = tmp_path_factory.mktemp("empty")
    # --no-lock: hash-locking the pipeline's tools resolves them against PyPI (a minute and more), which `up` does
    # not need; tests/test_workflows.py covers the locks.
    init = subprocess.run([sys.executable, "-m", "shipyard", "init", *ANSWERS, "--no-lock"], cwd=directory, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert init.returncode == 0, init.stdout + init.stderr
    with kept_up([], cwd=directory, columns=80) as (_, output):
        yield directory, init.stdout, output


def test_init_writes_a_starter_service_and_site_that_pass_their_own_tests(started):
    directory, said, _ = started
    for path in ("service/Dockerfile", "service/app.py", "service/tests/test_app.py", "site/index.html", "site/assets/app.js"):
        assert f"wrote {path}" in said and (directory / path).is_file(), path
    assert "docs/" not in said and "`shipyard up`" in said
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "service/tests"], cwd=directory,
                           capture_output=True, text=True, timeout=120)
    assert tests.returncode == 0, tests.stdout + tests.stderr


def test_up_releases_the_starter_and_each_url_serves_the_page_and_its_api(started):
    _, _, output = started
    urls = local_urls(output)
    assert set(urls) == {"staging", "production"}, output
    assert "\t" not in output and "shipyard up on embedded AWS" in output  # drawn for the terminal, not piped
    assert len(re.findall(rf"│ {LIVE_CHECKS}/{LIVE_CHECKS} +│", output)) == 2 and "browser check: passed" in output, output  # verified, and the page works
    for environment, url in urls.items():
        with urllib.request.urlopen(url + "/", timeout=10) as page:
            assert "<h1>starter</h1>" in page.read().decode()
        with urllib.request.urlopen(url + "/api/hello", timeout=10) as api:
            assert json.load(api) == {"message": "hello from starter", "environment": environment}


def test_the_starter_page_shows_what_the_api_answers_in_a_real_browser(started, tmp_path):
    _, _, output = started
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is a test dependency (.ci/run installs it)"
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
                          local_urls(output)["staging"] + "/"], capture_output=True, text=True, timeout=60).stdout
    assert "hello from starter (environment staging)" in dom, dom[-800:]
