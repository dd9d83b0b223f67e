"""A local health URL for release tests: answers `Health.code` after `Health.delay` seconds."""

from __future__ import annotations

import http.server
import threading
import time

import pytest


class Health(http.server.BaseHTTPRequestHandler):
    code = 200
    delay = 0.0

    def do_GET(self):
        time.sleep(type(self).delay)
        self.send_response(type(self).code)
        self.end_headers()
        self.wfile.write(b"ok" if type(self).code == 200 else b"broken")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def health_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()


@pytest.fixture(autouse=True)
def fast_simulation(monkeypatch):
    monkeypatch.setenv("SHIPYARD_LOCAL_STEP", "0.1")
    # A one-minute bake lasts 6 s here: long enough for the tests' health gates (2 s at most) to run inside it.
    monkeypatch.setenv("SHIPYARD_LOCAL_PACE_FACTOR", "10")
    Health.code, Health.delay = 200, 0.0
