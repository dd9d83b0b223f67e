"""A local health URL for release tests: answers `Health.code` after `Health.delay` seconds."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

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


# AWS's timers run this many times faster in the release tests, as in `shipyard up` (a one-minute bake still lasts pace.BAKE_AT_LEAST
# real seconds, for the health gate's answers).
PACE_FACTOR = "30"


@pytest.fixture(autouse=True)
def fast_timers(monkeypatch):
    monkeypatch.setenv("SHIPYARD_LOCAL_PACE_FACTOR", PACE_FACTOR)
    Health.code, Health.delay = 200, 0.0


SERVICE = Path(__file__).resolve().parents[2] / "examples" / "webapp" / "service"

# The sample service's code, changed the way real code goes wrong (its tests are untouched).
VARIANTS = {
    "crash": ('log = logging.getLogger("webapp")', 'log = logging.getLogger("webapp")\nDATABASE_URL = os.environ["DATABASE_URL"]'),
    "unhealthy": ('return JSONResponse({"status": "ok"})', 'return JSONResponse({"status": "broken"}, status_code=500)'),
    "stuck": ('if __name__ == "__main__":\n    run()', 'if __name__ == "__main__":\n    time.sleep(3600)  # never listens'),
    "slow start": ('if __name__ == "__main__":\n    run()', 'if __name__ == "__main__":\n    time.sleep(2)  # warms a cache first\n    run()'),
    "changed": ('"version": os.environ.get("APP_VERSION", "dev")', '"version": os.environ.get("APP_VERSION", "2.0")'),
}


def build_image(aws, env, tag: str, variant: str | None = None, migrations: dict[str, str] | None = None):
    """The sample service (or a variant of its code, with more migration files) built and pushed to `env`'s repository."""
    import shutil
    import tempfile

    from shipyard.app.local_images import build_local_image

    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "service"
        shutil.copytree(SERVICE, directory, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        if variant is not None:
            old, new = VARIANTS[variant]
            text = (directory / "app.py").read_text()
            assert old in text, f"the sample service changed: {old!r} is gone"
            (directory / "app.py").write_text(text.replace(old, new, 1))
        for name, sql in (migrations or {}).items():
            (directory / "migrations" / name).write_text(sql)
        return build_local_image(aws, env, directory=directory, tag=tag, architecture=env.architecture, command=None,
                                 vulnerable=False).image


def release_options(example_config, **kwargs):
    """Release options for the example on the embedded AWS: short waits, its migrations."""
    from shipyard.release.release import ReleaseOptions

    return ReleaseOptions(rollout_timeout=40, health_timeout=2, health_successes=2, health_interval=0.1,
                          migrate=example_config.release.migrate_command, migrate_timeout=60, **kwargs)


@pytest.fixture
def released(deployed, assemblies, example_config):
    """Staging runs an image (earlier tests may have released some; alone, this releases one); its Aws."""
    from shipyard.release.release import current_digest, release

    staging, aws = assemblies["staging"], deployed["staging"]
    if current_digest(aws, staging.environment) is None:
        image = build_image(aws, staging.environment, "released000")
        release(aws, staging, image.reference, release_options(example_config),
                health_path=example_config.service.health_check_path)
    return aws


def stdlib_dockerfile(script: str) -> str:
    """A Dockerfile for a test app of Python's standard library only: `script`, run as nobody."""
    return f'FROM python:3.12-slim\nCOPY {script} /app/\nWORKDIR /app\nUSER 65534\nCMD ["python", "{script}"]\n'
