"""`shipyard up`, the README's main job, as a newcomer runs it, in a process of its own (as the README runs it: a
process holds one embedded AWS) on a 120-column terminal: both environments deployed, published, released and
verified; with --keep the printed URLs (whole, a line each) answer from the running service, the page works in a
real browser, the AWS CLI reaches each environment's account, and Ctrl-C leaves no process. It runs side by side,
as on AWS: environments and independent stacks at once, with the threads AWS runs them on (on the embedded AWS a
plain `up` takes them one at a time, as test_init_starter.py's does on an 80-column terminal)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import EXAMPLE, LIVE_CHECKS
from .kept_up import kept_up, local_urls

# Each test here runs `shipyard up`, which starts an embedded AWS of its own.
pytestmark = [pytest.mark.embedded, pytest.mark.long]  # long: a minute or more of a worker, handed out first


def _task_processes(cache: Path, parent: int) -> list[int]:
    """Children of `parent` whose working directory is an unpacked image: that embedded AWS's task processes."""
    rootfs = str((cache / "local" / "rootfs").resolve())
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid == parent and os.readlink(proc / "cwd").startswith(rootfs):
                    found.append(int(proc.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _alive(pids: list[int]) -> list[int]:
    return [pid for pid in pids if Path(f"/proc/{pid}").exists() and "Z" not in (Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])]


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """`shipyard up --keep` on a copy of the example, running until the module ends: (process, stdout so far)."""
    app = tmp_path_factory.mktemp("keep") / "webapp"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("cdk.out"))
    with kept_up(["--config", str(app / "shipyard.toml")], cwd=app, columns=120, side_by_side=True) as running:
        yield running


def _released(output: str, environment: str) -> str:
    return re.search(rf"^{environment}: releasing \S+@(sha256:[0-9a-f]{{64}})$", output, re.M).group(1)


def test_up_deploys_publishes_releases_and_verifies_both_environments(kept):
    _, output = kept
    table = output[output.index("shipyard up on embedded AWS"):]
    rows = [line for line in table.splitlines() if line.startswith(("│ staging ", "│ production "))]
    assert len(rows) == 2 and "\t" not in table, table  # drawn for the terminal, each row's cells whole at 120 columns
    for row, account in zip(rows, ("111111111111", "222222222222"), strict=True):
        assert f"│ {account} │" in row and f"│ {LIVE_CHECKS}/{LIVE_CHECKS} pass │" in row and "│ 3 uploaded, 0 unchanged │" in row, row
    assert set(local_urls(output)) == {"staging", "production"}, table
    assert _released(output, "staging") == _released(output, "production")  # the digest promoted is the one released
    assert "time: synth" in output
    # The example's final stage adds a user with RUN, which the embedded AWS's image did not run: said, not hidden.
    assert re.search(r"not run in the embedded AWS's image: Dockerfile:\d+ RUN useradd --system", output), output


def test_up_on_aws_refuses_production_without_yes(cli, example_copy):
    result = cli("--config", str(example_copy), "up", "--aws")
    assert result.code == 2
    assert "environment production: is production; changes need confirmation; nothing was changed" in result.err
    assert "pass --yes" in result.err


def test_the_printed_urls_answer_from_the_running_service(kept):
    _, output = kept
    urls = local_urls(output)
    for environment in ("staging", "production"):
        url, released = urls[environment], _released(output, environment)
        with urllib.request.urlopen(url + "/") as page:
            assert page.headers["X-Shipyard-Served-By"] == "s3" and b"<title>webapp</title>" in page.read()
        with urllib.request.urlopen(url + "/api/info") as api:
            info = json.load(api)
            assert api.headers["X-Shipyard-Served-By"] == "load balancer"
        assert info["environment"] == environment
        assert info["image_digest"] == released  # what the service runs, as it computed it


def test_each_environment_writes_and_reads_its_own_database_through_the_edge(kept):
    _, output = kept
    for environment in ("staging", "production"):
        url = local_urls(output)[environment]
        request = urllib.request.Request(url + "/api/items", data=json.dumps({"name": f"made in {environment}"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as created:
            assert created.status == 201
            item = json.load(created)
        with urllib.request.urlopen(url + "/api/items") as listed:
            names = [i["name"] for i in json.load(listed)["items"]]
        assert names[0] == f"made in {environment}" and item["name"] == names[0], names
        assert not any("made in" in n and environment not in n for n in names)  # each environment has its own database


def test_the_page_works_in_a_real_browser(kept, tmp_path):
    _, output = kept
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is a test dependency (.ci/run installs it)"
    assert "browser check: passed" in output
    url = local_urls(output)["staging"]
    shot = tmp_path / "staging.png"
    common = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000"]
    dom = subprocess.run([*common, "--dump-dom", url + "/"], capture_output=True, text=True, timeout=60).stdout
    assert "served by the container service" in dom
    assert re.search(r'data-field="environment">staging<', dom) and re.search(r'data-field="image_digest">sha256:[0-9a-f]{64}<', dom)
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1000,700", url + "/"], capture_output=True, timeout=60)
    assert shot.exists() and shot.stat().st_size > 5000
    print(f"screenshot: {shot}")


def test_the_aws_cli_reaches_every_environment(kept):
    _, output = kept
    aws = shutil.which("aws")
    assert aws, "the AWS CLI is a test dependency (.ci/run installs it)"
    config = re.search(r"export AWS_CONFIG_FILE=(\S+),", output).group(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    for environment, account in (("staging", "111111111111"), ("production", "222222222222")):
        result = subprocess.run([aws, "--profile", f"webapp-{environment}", "ecr", "describe-images", "--repository-name",
                                 f"webapp/{environment}", "--output", "json"], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        images = json.loads(result.stdout)["imageDetails"]
        assert images and all(i["registryId"] == account for i in images)


def test_ctrl_c_stops_every_task_process(kept):
    process, _ = kept
    tasks = _task_processes(Path(os.environ["SHIPYARD_CACHE_DIR"]), process.pid)
    assert len(tasks) >= 6, "the kept environments run their tasks as processes (2 in staging, 4 in production)"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while _alive(tasks) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(tasks) == [], "task processes outlived the embedded AWS"
