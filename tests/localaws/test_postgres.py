"""The embedded RDS's PostgreSQL servers, from the machine's packages and from the pgserver wheel: TLS through the
front, clear connections refused where rds.force_ssl = 1, the master password enforced."""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

import psycopg
import pytest

from shipyard.localaws.rds import postgres

# The embedded RDS's database servers, started for real.
pytestmark = pytest.mark.embedded

BUNDLED = Path(next(iter(importlib.util.find_spec("pgserver").submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["machine", "wheel"])
def binaries(request, monkeypatch):
    if request.param == "wheel":
        monkeypatch.setenv("SHIPYARD_POSTGRES_BIN", str(BUNDLED))
    return request.param


def _connect(port: int, password: str, sslmode: str) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=port, user="app_owner", password=password, dbname="app", sslmode=sslmode,
                           connect_timeout=5)


def test_tls_is_required_and_the_password_checked(binaries):
    port = _free_port()
    server = postgres.start(f"test/{binaries}/required", port=port, user="app_owner", password="pa'ss", database="app", force_ssl=True)
    try:
        with _connect(port, "pa'ss", "require") as connection:
            assert connection.pgconn.ssl_in_use
            assert connection.execute("SELECT current_user").fetchone()[0] == "app_owner"
        with pytest.raises(psycopg.OperationalError, match="no encryption"):
            _connect(port, "pa'ss", "disable")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            _connect(port, "wrong", "require")
        server.set_password("rotated")
        with _connect(port, "rotated", "require"):
            pass
    finally:
        postgres.stop(server.key)


def test_clear_connections_are_served_without_force_ssl(binaries):
    port = _free_port()
    server = postgres.start(f"test/{binaries}/optional", port=port, user="app_owner", password="pw", database="app", force_ssl=False)
    try:
        with _connect(port, "pw", "disable") as connection:
            assert not connection.pgconn.ssl_in_use
    finally:
        postgres.stop(server.key)


def test_a_wheel_inside_a_private_directory_still_serves_when_root_drops_to_the_service_user(tmp_path, monkeypatch):
    """A checkout in `mktemp -d` (mode 0700) holds the wheel in its virtualenv: the postgres user cannot reach it there."""
    import os
    import shutil

    if os.geteuid() != 0:
        pytest.skip("only root runs the servers as another user")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    shutil.copytree(BUNDLED.parent.parent, private / "pgserver", symlinks=True)
    shutil.copytree(BUNDLED.parent.parent.parent / "pgserver.libs", private / "pgserver.libs", symlinks=True)
    monkeypatch.setenv("SHIPYARD_POSTGRES_BIN", str(private / "pgserver" / "pginstall" / "bin"))
    assert not str(postgres.binaries()).startswith(str(private))  # a readable copy
    port = _free_port()
    postgres.start("test/private/app", port=port, user="app_owner", password="pw", database="app", force_ssl=False)
    try:
        with _connect(port, "pw", "disable") as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
    finally:
        postgres.stop("test/private/app")
