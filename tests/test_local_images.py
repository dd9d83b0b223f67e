"""The image the embedded AWS runs: built by shipyard's own builder, which runs no commands and says so."""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

from shipyard.app.browser_check import check_page
from shipyard.release import oci

from .conftest import EXAMPLE


def test_a_run_step_of_the_final_stage_is_named_not_skipped_in_silence(tmp_path, capsys):
    service = tmp_path / "service"
    shutil.copytree(EXAMPLE / "service", service, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    text = (service / "Dockerfile").read_text().replace("WORKDIR /app\n", "WORKDIR /app\nRUN python -m compileall /app\n")
    (service / "Dockerfile").write_text(text)
    built = oci.build(service, architecture="arm64")
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("RUN")]
    assert built.not_run == (f"Dockerfile:{lines[1]} RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app",
                             f"Dockerfile:{lines[2]} RUN python -m compileall /app")
    # The build stage's pip install is followed (its virtualenv becomes the requirements layer): not listed.
    assert not any("pip install" in step for step in built.not_run)


class _Page(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_browser_check_passes_a_page_that_works_and_names_what_a_broken_one_threw(page):
    assert shutil.which("chromium"), "Debian's chromium is a test dependency (.ci/run installs it)"
    _Page.body = b"<!doctype html><title>ok</title><h1>ok</h1><script>document.title = 'ran';</script>"
    assert check_page(page).passed
    _Page.body = b"<!doctype html><title>broken</title><h1>x</h1><script>undefinedFunction();</script>"
    result = check_page(page)
    assert result.ran and not result.passed
    assert "its scripts threw: Uncaught ReferenceError: undefinedFunction is not defined" in result.detail


def test_local_image_without_a_target_names_the_embedded_aws_only(cli, example_copy, monkeypatch):
    """No --aws in its hint: on AWS the pipeline builds and pushes images."""
    monkeypatch.delenv("SHIPYARD_ENDPOINT", raising=False)
    result = cli("--config", str(example_copy), "local-image", "staging", "t1")
    assert result.code == 2
    assert "local-image: needs the embedded AWS" in result.err and "pass --endpoint URL" in result.err
    assert "--aws" not in result.err


def test_an_image_built_again_is_not_scanned_again(deployed, assemblies, monkeypatch):
    """ECR scans an image once a day (StartImageScan: LimitExceededException after that, which the SDK retries as
    throttling for a minute): the same image pushed again has its scan already, and is not sent to be scanned."""
    from shipyard.aws import Aws
    from tests.release.conftest import build_image

    aws, env = deployed["staging"], assemblies["staging"].environment
    build_image(aws, env, "rescan-1")
    calls = []
    original = Aws.call
    monkeypatch.setattr(Aws, "call", lambda self, service, operation, region, /, **kw: (
        calls.append(operation), original(self, service, operation, region, **kw))[1])
    again = build_image(aws, env, "rescan-1")
    assert "StartImageScan" not in calls and aws.ecr(env.region).scan(env.names.repository, again.digest) is not None
