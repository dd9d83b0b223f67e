import socket

import pytest

from shipyard.errors import UsageError
from shipyard.localaws.server import EmbeddedAws


def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(UsageError, match=rf"127.0.0.1:{port} is already in use"):
            EmbeddedAws(port)


def test_server_answers_and_stops():
    import urllib.request

    with EmbeddedAws() as aws:
        assert aws.environment()["AWS_ENDPOINT_URL"] == aws.endpoint
        with urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=5) as response:
            assert response.status == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{aws.endpoint}/moto-api/", timeout=2)
