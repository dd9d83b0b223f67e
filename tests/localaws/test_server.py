import socket
import subprocess
import sys

import pytest

from shipyard.errors import UsageError
from shipyard.localaws.server import EmbeddedAws

pytestmark = pytest.mark.embedded  # starts and stops embedded AWS servers


def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=rf"127.0.0.1:{port} is already in use"):
            EmbeddedAws(port)


# In a process of its own: the test process already runs the embedded AWS the other tests share.
STARTS_AND_STOPS = """
import urllib.request
from shipyard.errors import ShipyardError
from shipyard.localaws.server import EmbeddedAws


with EmbeddedAws() as aws:
    assert aws.environment()["AWS_ENDPOINT_URL"] == aws.endpoint
    with urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=5) as response:
        assert response.status == 200
    try:
        EmbeddedAws().start()
    except ShipyardError as refused:
        print("second:", refused.one_line())
try:
    urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=2)
except OSError:
    print("stopped")
with EmbeddedAws():
    print("started again")
"""


def test_server_answers_and_stops_and_a_process_runs_one_at_a_time():
    result = subprocess.run([sys.executable, "-c", STARTS_AND_STOPS], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("second: embedded AWS: another embedded AWS already runs in this process"), lines
    assert lines[1:] == ["stopped", "started again"]
